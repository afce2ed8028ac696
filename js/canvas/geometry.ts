// Sizes of the drawn nodes: the layout engine and the node components agree on them.
export const NODE_WIDTH = 240;
export const HEADER = 48;
export const ROW = 22;
export const FOOT = 10;
export const GUTTER = 128; // width of a group's inner input/output column
export const GROUP_HEADER = 44;
export const GROUP_PAD = 24;
export const STAGE_GAP = 90;
export const NODE_GAP = 36;

export const stepHeight = (rows: number): number => HEADER + Math.max(rows, 1) * ROW + FOOT;
/** y of a port row's centre inside a step node. */
export const rowY = (i: number): number => HEADER + i * ROW + ROW / 2;
/** y of a port row's centre inside an expanded group node. */
export const groupRowY = (i: number): number => GROUP_HEADER + 8 + i * ROW + ROW / 2;
