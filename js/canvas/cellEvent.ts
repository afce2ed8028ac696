// The DOM event by which a notebook widget (js/widget) hands code to whatever page hosts it: the widget
// dispatches a bubbling, cancelable `dflow-lab:insert-cell` event from its element; a listener that put the
// code in a new cell cancels it. No listener (VS Code, the classic notebook, a page without the lab
// extension, an output view outside a notebook) leaves the event uncancelled. No imports; in @dflow-lab/canvas
// because both the widget bundle and the lab extension build it.

export const INSERT_CELL = "dflow-lab:insert-cell";

export interface InsertCellDetail {
  code: string;
}

/** Offer `code` to the page from `el`; true when a listener put it in a new cell. */
export function offerCell(el: Element, code: string): boolean {
  const event = new CustomEvent<InsertCellDetail>(INSERT_CELL, {
    bubbles: true,
    cancelable: true,
    composed: true,
    detail: { code },
  });
  return !el.dispatchEvent(event);
}

/**
 * Call `insert(code, target)` for every offer of non-blank code made in `root`; an offer is accepted (the
 * event cancelled) when `insert` returns true. Returns the function that stops listening.
 */
export function listenForCells(root: Node, insert: (code: string, target: Node) => boolean): () => void {
  const onOffer = (event: Event) => {
    if (event.defaultPrevented || !(event.target instanceof Node)) return;
    const code = (event as CustomEvent<Partial<InsertCellDetail> | null>).detail?.code;
    if (typeof code !== "string" || !code.trim()) return;
    try {
      if (insert(code, event.target)) event.preventDefault();
    } catch (e) {
      console.error("dflow-lab: cannot insert the code cell", e); // uncancelled: the widget writes a file
    }
  };
  root.addEventListener(INSERT_CELL, onOffer);
  return () => root.removeEventListener(INSERT_CELL, onOffer);
}

// "Open source" the same way: a notebook widget offers the file (absolute, as its kernel sees it) and line of
// an OP's definition with a bubbling, cancelable `dflow-lab:open-source` event; the lab extension opens it in
// an editor when the file is under the server's root and cancels the event. Uncancelled, the widget shows
// the source itself.
export const OPEN_SOURCE = "dflow-lab:open-source";

export interface OpenSourceDetail {
  file: string;
  line?: number;
}

/** Offer `file` at `line` to the page from `el`; true when a listener opened it. */
export function offerSource(el: Element, file: string, line?: number): boolean {
  const event = new CustomEvent<OpenSourceDetail>(OPEN_SOURCE, {
    bubbles: true,
    cancelable: true,
    composed: true,
    detail: { file, line },
  });
  return !el.dispatchEvent(event);
}

/** Call `open(file, line)` for every source offer made in `root`; accepted (cancelled) when it returns true. */
export function listenForSources(root: Node, open: (file: string, line?: number) => boolean): () => void {
  const onOffer = (event: Event) => {
    if (event.defaultPrevented) return;
    const detail = (event as CustomEvent<Partial<OpenSourceDetail> | null>).detail;
    if (typeof detail?.file !== "string" || !detail.file) return;
    try {
      if (open(detail.file, typeof detail.line === "number" ? detail.line : undefined)) event.preventDefault();
    } catch (e) {
      console.error("dflow-lab: cannot open the source", e); // uncancelled: the widget shows it
    }
  };
  root.addEventListener(OPEN_SOURCE, onOffer);
  return () => root.removeEventListener(OPEN_SOURCE, onOffer);
}
