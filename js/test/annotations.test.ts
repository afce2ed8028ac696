import assert from "node:assert/strict";
import { test } from "node:test";
import {
  COMMENT_MIN,
  GROUP_COLORS,
  GROUP_LABEL,
  GROUP_MARGIN,
  addComment,
  addGroup,
  commentsOf,
  editComment,
  editGroup,
  followNodes,
  groupFrame,
  groupsOf,
  placeComment,
  removeComment,
  removeGroup,
  renameInLayout,
  tether,
} from "../canvas/annotations";
import { movePositions, removeItems, updateNode } from "../canvas/edit";
import type { Graph } from "../canvas/types";
import { nestedGraph, stepsGraph } from "./fixtures";

/** The steps fixture laid out: squares at (0, 0), total at (330, 0). */
function laidOut(): Graph {
  const g = stepsGraph();
  g.layout = {
    templates: {
      main: { nodes: { squares: { x: 0, y: 0 }, total: { x: 330, y: 0 } }, viewport: { x: 0, y: 0, zoom: 1 } },
    },
  };
  return g;
}

const box = (x: number, y: number, width = 200, height = 80) => ({ x, y, width, height });

test("a comment is added with a fresh id, edited, resized no smaller than the minimum, and removed", () => {
  const g0 = laidOut();
  const a = addComment(g0, "main", box(10.4, 20.6), "total");
  const b = addComment(a.graph, "main", box(0, 0));
  assert.deepEqual([a.id, b.id], ["c1", "c2"]);
  assert.deepEqual(commentsOf(b.graph, "main")[0], {
    id: "c1",
    text: "",
    x: 10,
    y: 21,
    width: 200,
    height: 80,
    attached_to: "total",
  });
  assert.equal(commentsOf(g0, "main").length, 0, "the input is left alone");
  let g = editComment(b.graph, "main", "c1", { text: "scores are in [0, 1]\n<b>not bold</b>" });
  g = editComment(g, "main", "c1", { x: 50.2, y: -7.7, width: 10, height: 5 });
  const c = commentsOf(g, "main")[0];
  assert.equal(c.text, "scores are in [0, 1]\n<b>not bold</b>");
  assert.deepEqual([c.x, c.y, c.width, c.height], [50, -8, COMMENT_MIN.width, COMMENT_MIN.height]);
  g = removeComment(g, "main", "c1");
  assert.deepEqual(
    commentsOf(g, "main").map((x) => x.id),
    ["c2"],
  );
  // the rest of the layout is kept as it was
  assert.deepEqual(g.layout!.templates!.main.viewport, { x: 0, y: 0, zoom: 1 });
  assert.deepEqual(g.layout!.templates!.main.nodes, g0.layout!.templates!.main.nodes);
  // removing the last comment frees c1 again; an unknown id is an error naming the template
  assert.equal(addComment(removeComment(g, "main", "c2"), "main", box(0, 0)).id, "c1");
  assert.throws(() => editComment(g, "main", "c9", { text: "x" }), /template 'main' has no comment 'c9'/);
});

test("entries other editors wrote are kept; entries that are not comments or groups are not drawn", () => {
  const g = laidOut();
  g.layout!.templates!.main.comments = [{ id: "c1", text: "theirs", x: 1, y: 2, colour: "pink" }, "junk"];
  g.layout!.templates!.main.groups = [{ id: "g1", nodes: ["squares"], extra: 1 }, { label: "no id" }];
  assert.deepEqual(
    commentsOf(g, "main").map((c) => c.id),
    ["c1"],
  );
  assert.deepEqual([commentsOf(g, "main")[0].width, commentsOf(g, "main")[0].height], [undefined, undefined]);
  assert.deepEqual(
    groupsOf(g, "main").map((x) => x.id),
    ["g1"],
  );
  const r = addComment(g, "main", box(0, 0));
  assert.equal(r.id, "c2");
  const list = r.graph.layout!.templates!.main.comments as unknown[];
  assert.deepEqual(list[0], { id: "c1", text: "theirs", x: 1, y: 2, colour: "pink" });
  assert.equal(list[1], "junk");
  assert.equal(addGroup(g, "main", ["total"]).id, "g2");
});

test("a group gets a label and the next colour; label and colour change; ungrouping keeps the nodes", () => {
  const g0 = laidOut();
  const a = addGroup(g0, "main", ["squares", "total", "squares"]);
  assert.deepEqual(groupsOf(a.graph, "main"), [
    { id: "g1", label: "group 1", nodes: ["squares", "total"], collapsed: false, color: GROUP_COLORS[0] },
  ]);
  const b = addGroup(a.graph, "main", ["total"], "scoring");
  assert.equal(groupsOf(b.graph, "main")[1].color, GROUP_COLORS[1]);
  let g = editGroup(b.graph, "main", "g1", { label: "prepare", color: GROUP_COLORS[3] });
  assert.deepEqual([groupsOf(g, "main")[0].label, groupsOf(g, "main")[0].color], ["prepare", GROUP_COLORS[3]]);
  g = removeGroup(g, "main", "g1");
  assert.deepEqual(
    groupsOf(g, "main").map((x) => x.id),
    ["g2"],
  );
  assert.equal(g.templates.main.nodes!.length, 2);
  assert.throws(() => addGroup(g0, "main", []), /needs at least one node/);
  assert.throws(() => addGroup(g0, "main", ["squares", "nope"]), /template 'main' has no node 'nope'/);
});

test("a deleted node leaves its groups (an emptied group goes) and its comments are detached, kept in place", () => {
  let g = addGroup(laidOut(), "main", ["squares", "total"]).graph;
  g = addGroup(g, "main", ["total"]).graph;
  g = addComment(g, "main", box(330, -100), "total", "about total").graph;
  const after = followNodes(g, removeItems(g, ["total"], []));
  assert.deepEqual(
    groupsOf(after, "main").map((x) => [x.id, x.nodes]),
    [["g1", ["squares"]]],
  );
  assert.deepEqual(
    commentsOf(after, "main").map((c) => [c.text, c.x, c.y, c.attached_to]),
    [["about total", 330, -100, null]],
  );
});

test("a comment attached to a node moves with it; others stay; nothing else changes", () => {
  let g = addComment(laidOut(), "main", box(330, -100), "total").graph;
  g = addComment(g, "main", box(0, 200)).graph;
  g = addComment(g, "main", box(0, -100), "squares").graph;
  const moved = movePositions(g, [{ path: "total", x: 400, y: 50 }]);
  const after = followNodes(g, moved);
  assert.deepEqual(
    commentsOf(after, "main").map((c) => [c.id, c.x, c.y]),
    [
      ["c1", 400, -50],
      ["c2", 0, 200],
      ["c3", 0, -100],
    ],
  );
  // an edit that moves no annotated node returns the edited graph itself
  const untouched = movePositions(g, [{ path: "@inputs", x: 5, y: 5 }]);
  assert.equal(followNodes(g, untouched), untouched);
});

test("renaming a node renames it in groups and comments", () => {
  let g = addGroup(laidOut(), "main", ["squares", "total"]).graph;
  g = addComment(g, "main", box(330, -100), "total").graph;
  const r = updateNode(g, "total", { name: "sum" });
  const renamed = followNodes(g, renameInLayout(r.graph, "total", r.path));
  assert.deepEqual(groupsOf(renamed, "main")[0].nodes, ["squares", "sum"]);
  assert.equal(commentsOf(renamed, "main")[0].attached_to, "sum");
  // without the rename the node counts as deleted: the comment would be detached
  assert.equal(commentsOf(followNodes(g, r.graph), "main")[0].attached_to, null);
});

test("annotations of a nested template follow the nodes of that template", () => {
  const g0 = nestedGraph();
  g0.layout = { templates: { pipeline: { nodes: { squares: { x: 0, y: 0 }, total: { x: 330, y: 0 } } } } };
  let g = addGroup(g0, "pipeline", ["squares", "total"]).graph;
  g = addComment(g, "pipeline", box(0, -100), "squares").graph;
  const r = updateNode(g, "inner/squares", { name: "sq" });
  const renamed = renameInLayout(r.graph, "inner/squares", r.path);
  assert.deepEqual(groupsOf(renamed, "pipeline")[0].nodes, ["sq", "total"]);
  const moved = followNodes(renamed, movePositions(renamed, [{ path: "inner/sq", x: 20, y: 30 }]));
  assert.deepEqual([commentsOf(moved, "pipeline")[0].x, commentsOf(moved, "pipeline")[0].y], [20, -70]);
  const removed = followNodes(moved, removeItems(moved, ["inner/sq", "inner/total"], []));
  assert.deepEqual(groupsOf(removed, "pipeline"), []);
});

test("a new comment goes next to its node where nothing is, or around the centre", () => {
  const node = box(100, 100, 240, 92);
  const size = { width: 200, height: 76 };
  assert.deepEqual(placeComment([node], size, { node }), { x: 100, y: -24, ...size });
  // something above the node: to its right
  const above = box(100, 0, 240, 60);
  assert.deepEqual(placeComment([node, above], size, { node }), { x: 364, y: 100, ...size });
  // boxed in on every side: above everything over the node
  const ring = [above, box(340, 100, 240, 92), box(100, 192, 240, 200), box(-200, 100, 300, 92)];
  const p0 = placeComment([node, ...ring], size, { node });
  assert.deepEqual([p0.x, p0.y + p0.height <= 0 - 8], [100, true]);
  // around the centre: centred there when free, else above or below
  assert.deepEqual(placeComment([], size, { centre: { x: 0, y: 0 } }), { x: -100, y: -38, ...size });
  const p = placeComment([box(-150, -60, 300, 120)], size, { centre: { x: 0, y: 0 } });
  assert.ok(p.y + p.height <= -60 || p.y >= 60, `placed clear of the node: ${JSON.stringify(p)}`);
});

test("a group's frame holds its members with a margin and room for the label; a tether joins the nearest sides", () => {
  assert.equal(groupFrame([]), null);
  assert.deepEqual(groupFrame([box(0, 0, 240, 100), box(330, 40, 240, 100)]), {
    x: -GROUP_MARGIN,
    y: -GROUP_MARGIN - GROUP_LABEL,
    width: 570 + 2 * GROUP_MARGIN,
    height: 140 + 2 * GROUP_MARGIN + GROUP_LABEL,
  });
  assert.equal(groupFrame([box(0, 0)], 28)!.y, -GROUP_MARGIN - GROUP_LABEL - 28);
  assert.deepEqual(tether(box(0, -100, 200, 76), box(0, 0, 240, 90)), { x1: 100, y1: -24, x2: 100, y2: 0 });
  assert.deepEqual(tether(box(300, 10, 200, 76), box(0, 0, 240, 90)), { x1: 300, y1: 48, x2: 240, y2: 48 });
  assert.deepEqual(tether(box(300, 200, 200, 76), box(0, 0, 240, 90)), { x1: 300, y1: 200, x2: 240, y2: 90 });
  assert.equal(tether(box(0, 0, 100, 100), box(50, 50, 100, 100)), null, "no line between overlapping boxes");
});
