// New files the extension writes through Jupyter's contents API.
import { PathExt } from "@jupyterlab/coreutils";
import type { Contents } from "@jupyterlab/services";

/** A path in `dir` named `stem` + `ext` that does not exist yet (`stem-2`, `stem-3`… otherwise). */
export async function freePath(contents: Contents.IManager, dir: string, stem: string, ext: string): Promise<string> {
  const listing = await contents.get(dir, { type: "directory", content: true });
  const taken = new Set((listing.content as Contents.IModel[]).map((m) => m.name));
  for (let i = 1; ; i++) {
    const name = `${stem}${i > 1 ? `-${i}` : ""}${ext}`;
    if (!taken.has(name)) return PathExt.join(dir, name);
  }
}

/** A notebook (nbformat 4) with one code cell holding `code`. */
export function notebookOf(code: string): Record<string, unknown> {
  return {
    cells: [{ cell_type: "code", execution_count: null, metadata: {}, outputs: [], source: code }],
    metadata: { kernelspec: { display_name: "Python 3", language: "python", name: "python3" } },
    nbformat: 4,
    nbformat_minor: 5,
  };
}
