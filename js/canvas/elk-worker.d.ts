// elk's worker script, imported as text (`with { type: "text" }`, esbuild's text loader): see elk.ts.
declare module "elkjs/lib/elk-worker.min.js" {
  const source: string;
  export default source;
}
