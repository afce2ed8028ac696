// A module of the canvas bundled as a worker script and imported as its text (js/workerText.mjs).
declare module "*?worker" {
  const source: string;
  export default source;
}
