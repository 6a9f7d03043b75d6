//! Lineage between products: an ODPS input port naming a contract makes the product that provides the contract
//! upstream of the one that consumes it. Cycles are found (and reported), impact is walked downstream, and any part
//! of the graph is drawn as SVG from its `Layout`, layered (layers by longest path, order by barycentres) and public
//! so its geometry can be checked. ODCS relationships between products' tables are drawn beside the data flow as
//! dotted "references" edges (referencing product → referenced product); they carry no data and take no part in
//! layers, cycles or impact.

use crate::base::html::escape;
use crate::governance::compliance::Compliance;
use crate::model::catalog::Catalog;
use serde::Serialize;
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::fmt::Write as _;

#[derive(Debug, Clone, Serialize)]
pub struct Node {
    pub key: String,
    pub domain: String,
    pub name: String,
    pub title: String,
    pub owner: Option<String>,
    /// passing, warning, failing, invalid, failed — or `external` for a contract no product of the mesh provides.
    pub health: String,
    pub quarantined: bool,
    pub url: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Edge {
    /// Indexes into `nodes`: data flows from `from` (provider) to `to` (consumer).
    pub from: usize,
    pub to: usize,
    pub contract_id: String,
    pub port: Option<String>,
}

/// A product whose tables reference another product's (ODCS relationships, foreign keys).
#[derive(Debug, Clone, Serialize)]
pub struct Reference {
    /// Indexes into `nodes`: `from` references `to`.
    pub from: usize,
    pub to: usize,
    /// The relationships, e.g. `orders.customer_id references customer_profiles.customer_id`.
    pub relationships: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Lineage {
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
    /// Each cycle as the product keys on it.
    pub cycles: Vec<Vec<String>>,
    /// Relationships between products' tables, one per referencing → referenced pair.
    pub references: Vec<Reference>,
}

/// A product a change would reach, and how.
#[derive(Debug, Clone, Serialize)]
pub struct Impacted {
    pub key: String,
    pub title: String,
    pub owner: Option<String>,
    pub url: Option<String>,
    /// 1 for a direct consumer.
    pub depth: usize,
    /// The products between the changed one and this one.
    pub via: Vec<String>,
}

impl Lineage {
    pub fn of(catalog: &Catalog, compliance: &Compliance) -> Lineage {
        let mut nodes: Vec<Node> = catalog
            .products
            .iter()
            .map(|p| Node {
                key: p.key(),
                domain: p.domain.clone(),
                name: p.name.clone(),
                title: p.title(),
                owner: p.owner(),
                health: p.status.as_str().to_string(),
                quarantined: compliance.is_quarantined(&p.key()),
                url: Some(crate::base::urls::product_url(&p.domain, &p.name)),
            })
            .collect();
        let provider: HashMap<&str, usize> = catalog
            .products
            .iter()
            .enumerate()
            .flat_map(|(i, p)| {
                p.contracts
                    .iter()
                    .filter_map(move |c| c.id.as_deref().map(|id| (id, i)))
            })
            .collect();
        let mut external: HashMap<String, usize> = HashMap::new();
        let mut edges = Vec::new();
        for (to, p) in catalog.products.iter().enumerate() {
            for port in p.descriptor.iter().flat_map(|d| d.input_ports.iter()) {
                let Some(id) = port.contract_id.as_deref() else {
                    continue;
                };
                let from = match provider.get(id) {
                    Some(i) => *i,
                    None => *external.entry(id.to_string()).or_insert_with(|| {
                        nodes.push(Node {
                            key: format!("external:{id}"),
                            domain: String::new(),
                            name: id.to_string(),
                            title: id.to_string(),
                            owner: None,
                            health: "external".into(),
                            quarantined: false,
                            url: None,
                        });
                        nodes.len() - 1
                    }),
                };
                edges.push(Edge {
                    from,
                    to,
                    contract_id: id.to_string(),
                    port: port.name.clone(),
                });
            }
        }
        let references = references_between(catalog, &nodes);
        let mut lineage = Lineage {
            nodes,
            edges,
            cycles: Vec::new(),
            references,
        };
        lineage.cycles = lineage.find_cycles();
        lineage
    }

    pub fn index_of(&self, key: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.key == key)
    }

    fn successors(&self) -> Vec<Vec<usize>> {
        let mut out = vec![Vec::new(); self.nodes.len()];
        for e in &self.edges {
            if !out[e.from].contains(&e.to) {
                out[e.from].push(e.to);
            }
        }
        out
    }

    fn predecessors(&self) -> Vec<Vec<usize>> {
        let mut out = vec![Vec::new(); self.nodes.len()];
        for e in &self.edges {
            if !out[e.to].contains(&e.from) {
                out[e.to].push(e.from);
            }
        }
        out
    }

    /// Strongly connected components with more than one product, or a product consuming itself (Tarjan).
    fn find_cycles(&self) -> Vec<Vec<String>> {
        struct State {
            index: Vec<Option<usize>>,
            low: Vec<usize>,
            on_stack: Vec<bool>,
            stack: Vec<usize>,
            next: usize,
            out: Vec<Vec<usize>>,
        }
        fn visit(v: usize, succ: &[Vec<usize>], s: &mut State) {
            s.index[v] = Some(s.next);
            s.low[v] = s.next;
            s.next += 1;
            s.stack.push(v);
            s.on_stack[v] = true;
            for &w in &succ[v] {
                match s.index[w] {
                    None => {
                        visit(w, succ, s);
                        s.low[v] = s.low[v].min(s.low[w]);
                    }
                    Some(iw) if s.on_stack[w] => s.low[v] = s.low[v].min(iw),
                    _ => {}
                }
            }
            if Some(s.low[v]) == s.index[v] {
                let mut component = Vec::new();
                while let Some(w) = s.stack.pop() {
                    s.on_stack[w] = false;
                    component.push(w);
                    if w == v {
                        break;
                    }
                }
                let self_loop = component.len() == 1 && succ[v].contains(&v);
                if component.len() > 1 || self_loop {
                    component.sort();
                    s.out.push(component);
                }
            }
        }
        let succ = self.successors();
        let n = self.nodes.len();
        let mut s = State {
            index: vec![None; n],
            low: vec![0; n],
            on_stack: vec![false; n],
            stack: Vec::new(),
            next: 0,
            out: Vec::new(),
        };
        for v in 0..n {
            if s.index[v].is_none() {
                visit(v, &succ, &mut s);
            }
        }
        let mut cycles: Vec<Vec<String>> = s
            .out
            .into_iter()
            .map(|c| c.into_iter().map(|i| self.nodes[i].key.clone()).collect())
            .collect();
        cycles.sort();
        cycles
    }

    /// Nodes within `hops` edges of `start`, upstream and downstream.
    pub fn neighbourhood(&self, start: usize, hops: usize) -> BTreeSet<usize> {
        let mut keep = BTreeSet::from([start]);
        for next in [self.successors(), self.predecessors()] {
            let mut frontier = vec![start];
            for _ in 0..hops {
                let mut new = Vec::new();
                for v in frontier {
                    for &w in &next[v] {
                        if keep.insert(w) {
                            new.push(w);
                        }
                    }
                }
                frontier = new;
            }
        }
        keep
    }

    /// The graph restricted to `keep`.
    pub fn subgraph(&self, keep: &BTreeSet<usize>) -> Lineage {
        let map: HashMap<usize, usize> = keep.iter().enumerate().map(|(new, old)| (*old, new)).collect();
        let references = self
            .references
            .iter()
            .filter_map(|r| {
                Some(Reference {
                    from: *map.get(&r.from)?,
                    to: *map.get(&r.to)?,
                    relationships: r.relationships.clone(),
                })
            })
            .collect();
        Lineage {
            nodes: keep.iter().map(|i| self.nodes[*i].clone()).collect(),
            edges: self
                .edges
                .iter()
                .filter_map(|e| {
                    Some(Edge {
                        from: *map.get(&e.from)?,
                        to: *map.get(&e.to)?,
                        contract_id: e.contract_id.clone(),
                        port: e.port.clone(),
                    })
                })
                .collect(),
            cycles: Vec::new(),
            references,
        }
    }

    /// Every product downstream of `start` (breadth first, each at its shortest distance). With `contracts`, only
    /// the direct consumers of those contracts start the walk (a column's impact: consumers of its contract).
    pub fn impact(&self, start: usize, contracts: Option<&[String]>) -> Vec<Impacted> {
        let succ = self.successors();
        let mut seen: HashMap<usize, (usize, Vec<String>)> = HashMap::new();
        let mut queue: VecDeque<usize> = VecDeque::new();
        let first: Vec<usize> = match contracts {
            Some(ids) => self
                .edges
                .iter()
                .filter(|e| e.from == start && ids.contains(&e.contract_id))
                .map(|e| e.to)
                .collect(),
            None => succ[start].clone(),
        };
        for w in first {
            if w != start && !seen.contains_key(&w) {
                seen.insert(w, (1, Vec::new()));
                queue.push_back(w);
            }
        }
        while let Some(v) = queue.pop_front() {
            let (depth, via) = seen[&v].clone();
            for &w in &succ[v] {
                if w == start || seen.contains_key(&w) {
                    continue;
                }
                let mut path = via.clone();
                path.push(self.nodes[v].key.clone());
                seen.insert(w, (depth + 1, path));
                queue.push_back(w);
            }
        }
        let mut out: Vec<Impacted> = seen
            .into_iter()
            .map(|(i, (depth, via))| {
                let n = &self.nodes[i];
                Impacted {
                    key: n.key.clone(),
                    title: n.title.clone(),
                    owner: n.owner.clone(),
                    url: n.url.clone(),
                    depth,
                    via,
                }
            })
            .collect();
        out.sort_by(|a, b| (a.depth, &a.key).cmp(&(b.depth, &b.key)));
        out
    }

    /// Products in a stable order for drawing: by domain, then name.
    fn drawing_order(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.nodes.len()).collect();
        order.sort_by(|a, b| {
            (&self.nodes[*a].domain, &self.nodes[*a].name).cmp(&(&self.nodes[*b].domain, &self.nodes[*b].name))
        });
        order
    }

    /// The successors without the edges that close a cycle (the back edges of a depth-first walk in `order`).
    fn acyclic_successors(&self, order: &[usize]) -> Vec<Vec<usize>> {
        const UNSEEN: u8 = 0;
        const ON_PATH: u8 = 1;
        const DONE: u8 = 2;
        let succ = self.successors();
        let mut state = vec![UNSEEN; self.nodes.len()];
        let mut acyclic: Vec<Vec<usize>> = vec![Vec::new(); self.nodes.len()];
        for &root in order {
            if state[root] != UNSEEN {
                continue;
            }
            let mut stack = vec![(root, 0usize)];
            state[root] = ON_PATH;
            while let Some((v, i)) = stack.pop() {
                if i < succ[v].len() {
                    stack.push((v, i + 1));
                    let w = succ[v][i];
                    match state[w] {
                        UNSEEN => {
                            acyclic[v].push(w);
                            state[w] = ON_PATH;
                            stack.push((w, 0));
                        }
                        DONE => acyclic[v].push(w),
                        _ => {} // back edge
                    }
                } else {
                    state[v] = DONE;
                }
            }
        }
        acyclic
    }

    /// Layers (columns, left to right) and the order within each, for drawing.
    fn layers(&self) -> Vec<Vec<usize>> {
        if self.nodes.is_empty() {
            return Vec::new();
        }
        let order = self.drawing_order();
        let acyclic = self.acyclic_successors(&order);
        let mut layers = longest_path_layers(&acyclic, &order);
        self.order_by_barycentres(&mut layers);
        layers
    }

    /// Barycentre sweeps, down and back twice: order each layer by the mean position of its neighbours in the
    /// layer before it (in the direction of the sweep).
    fn order_by_barycentres(&self, layers: &mut [Vec<usize>]) {
        let preds = self.predecessors();
        let succ = self.successors();
        let depth = layers.len();
        for sweep in 0..4 {
            let forward = sweep % 2 == 0;
            let range: Vec<usize> = if forward {
                (1..depth).collect()
            } else {
                (0..depth.saturating_sub(1)).rev().collect()
            };
            for l in range {
                let reference = if forward { l - 1 } else { l + 1 };
                let pos: HashMap<usize, usize> = layers[reference].iter().enumerate().map(|(i, v)| (*v, i)).collect();
                let mut keyed: Vec<(f64, usize, usize)> = layers[l]
                    .iter()
                    .enumerate()
                    .map(|(i, &v)| {
                        let neighbours = if forward { &preds[v] } else { &succ[v] };
                        let ps: Vec<usize> = neighbours.iter().filter_map(|w| pos.get(w).copied()).collect();
                        let bary = if ps.is_empty() {
                            i as f64
                        } else {
                            ps.iter().sum::<usize>() as f64 / ps.len() as f64
                        };
                        (bary, i, v)
                    })
                    .collect();
                keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                layers[l] = keyed.into_iter().map(|k| k.2).collect();
            }
        }
    }

    /// Where every box and arrow of the drawing goes: layers left to right, shorter layers centred against the
    /// tallest; one arrow per provider → consumer pair, from the provider's right side to the consumer's left side.
    pub fn layout(&self) -> Layout {
        let layers = self.layers();
        let tallest = layers.iter().map(Vec::len).max().unwrap_or(0);
        let mut boxes = vec![
            NodeBox {
                layer: 0,
                x: 0.0,
                y: 0.0,
                width: BOX_WIDTH,
                height: BOX_HEIGHT,
            };
            self.nodes.len()
        ];
        for (l, nodes) in layers.iter().enumerate() {
            // Centre shorter layers against the tallest one.
            let offset = (tallest - nodes.len()) as f64 * (BOX_HEIGHT + GAP_Y) / 2.0;
            for (i, v) in nodes.iter().enumerate() {
                boxes[*v].layer = l;
                boxes[*v].x = PAD + l as f64 * (BOX_WIDTH + GAP_X);
                boxes[*v].y = PAD + offset + i as f64 * (BOX_HEIGHT + GAP_Y);
            }
        }
        let mut width = PAD * 2.0 + layers.len() as f64 * (BOX_WIDTH + GAP_X) - GAP_X;
        let height = PAD * 2.0 + tallest as f64 * (BOX_HEIGHT + GAP_Y) - GAP_Y;
        let mut drawn = BTreeSet::new();
        let linked: Vec<&Edge> = self.edges.iter().filter(|e| drawn.insert((e.from, e.to))).collect();
        // A cycle's arrow loops out past its boxes: widen the picture on both sides so the loop is not clipped.
        if linked.iter().any(|e| boxes[e.to].layer <= boxes[e.from].layer) {
            for b in &mut boxes {
                b.x += LOOP - PAD;
            }
            width += 2.0 * (LOOP - PAD);
        }
        let arrows = linked
            .into_iter()
            .map(|e| Arrow::between(&boxes[e.from], &boxes[e.to], e))
            .collect();
        // A reference within one layer loops out right of its boxes: room for the loop.
        if self.references.iter().any(|r| boxes[r.from].layer == boxes[r.to].layer) {
            width += REFERENCE_LOOP;
        }
        let references: Vec<ReferenceArrow> = self
            .references
            .iter()
            .map(|r| ReferenceArrow::between(&boxes[r.from], &boxes[r.to], r))
            .collect();
        let (width, height) = (width.max(BOX_WIDTH + 2.0 * PAD), height.max(BOX_HEIGHT + 2.0 * PAD));
        Layout {
            // The legend (drawn when there are references) sits below the boxes.
            width: if references.is_empty() {
                width
            } else {
                width.max(LEGEND_WIDTH)
            },
            height: if references.is_empty() {
                height
            } else {
                height + LEGEND_HEIGHT
            },
            boxes,
            arrows,
            references,
        }
    }

    /// The graph as an SVG drawing of its `layout`: products as boxes coloured by health, linked to their pages;
    /// `focus` is drawn thicker.
    pub fn svg(&self, focus: Option<&str>) -> String {
        let layout = self.layout();
        let mut s = String::new();
        let _ = write!(
            s,
            r##"<svg xmlns="http://www.w3.org/2000/svg" class="lineage" width="{w:.0}" height="{h:.0}" viewBox="0 0 {w:.0} {h:.0}" role="img" aria-label="lineage: {n} products, {e} dependencies"><defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#7a8596"/></marker><marker id="reference-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 1 1 L 9 5 L 1 9" fill="none" stroke="{REFERENCE_COLOUR}" stroke-width="1.5"/></marker></defs>"##,
            w = layout.width,
            h = layout.height,
            n = self.nodes.len(),
            e = self.edges.len()
        );
        for arrow in &layout.arrows {
            self.draw_arrow(&mut s, arrow);
        }
        for reference in &layout.references {
            self.draw_reference(&mut s, reference);
        }
        for (node, placed) in self.nodes.iter().zip(&layout.boxes) {
            draw_box(&mut s, node, placed, focus == Some(node.key.as_str()));
        }
        if !layout.references.is_empty() {
            draw_legend(&mut s, layout.height - LEGEND_HEIGHT + 6.0);
        }
        s.push_str("</svg>");
        s
    }

    /// A references edge: dotted, in its own colour and with an open arrowhead, so it never reads as data flow.
    fn draw_reference(&self, s: &mut String, arrow: &ReferenceArrow) {
        let [(x1, y1), (cx1, cy1), (cx2, cy2), (x2, y2)] = arrow.curve;
        let _ = write!(
            s,
            r#"<path class="reference" d="M {x1:.1} {y1:.1} C {cx1:.1} {cy1:.1}, {cx2:.1} {cy2:.1}, {x2:.1} {y2:.1}" fill="none" stroke="{REFERENCE_COLOUR}" stroke-width="1.4" stroke-dasharray="2 4" stroke-linecap="round" marker-end="url(#reference-arrow)"><title>{} references {}: {}</title></path>"#,
            escape(&self.nodes[arrow.from].key),
            escape(&self.nodes[arrow.to].key),
            escape(&arrow.relationships.join("; "))
        );
    }

    fn draw_arrow(&self, s: &mut String, arrow: &Arrow) {
        let [(x1, y1), (cx1, _), (cx2, _), (x2, y2)] = arrow.curve;
        let _ = write!(
            s,
            r#"<path class="edge{}" d="M {x1:.1} {y1:.1} C {cx1:.1} {y1:.1}, {cx2:.1} {y2:.1}, {x2:.1} {y2:.1}" fill="none" stroke="{}" stroke-width="1.4" marker-end="url(#arrow)"><title>{} → {} ({})</title></path>"#,
            if arrow.cycle { " cycle" } else { "" },
            if arrow.cycle { "#c0392b" } else { "#7a8596" },
            escape(&self.nodes[arrow.from].key),
            escape(&self.nodes[arrow.to].key),
            escape(&arrow.contract_id)
        );
    }
}

/// The size of a product box, the gaps between boxes (across and within layers) and the margin, in pixels.
const BOX_WIDTH: f64 = 210.0;
const BOX_HEIGHT: f64 = 42.0;
const GAP_X: f64 = 90.0;
const GAP_Y: f64 = 16.0;
const PAD: f64 = 12.0;
/// How far an arrow closing a cycle loops out past the box it leaves and the box it enters.
const LOOP: f64 = 120.0;
/// How far a references edge between two boxes of one layer loops out right of them.
const REFERENCE_LOOP: f64 = 40.0;
/// The strip below the boxes that holds the legend, and the width its text needs.
const LEGEND_HEIGHT: f64 = 26.0;
const LEGEND_WIDTH: f64 = 500.0;
/// The colour of references edges (data-flow arrows are grey).
const REFERENCE_COLOUR: &str = "#7d3c98";

/// Where a drawing puts each product and each arrow: `Lineage::svg` draws exactly this.
#[derive(Debug, Clone, Serialize)]
pub struct Layout {
    pub width: f64,
    pub height: f64,
    /// One per node, in the order of `Lineage::nodes`.
    pub boxes: Vec<NodeBox>,
    /// One per provider → consumer pair (several ports between the same two products draw one arrow).
    pub arrows: Vec<Arrow>,
    /// One per referencing → referenced pair, drawn dotted.
    pub references: Vec<ReferenceArrow>,
}

/// A references edge: from the referencing product's box to the referenced one's, a quarter of a box below the
/// middle (where data-flow arrows attach) so the two kinds never share a line.
#[derive(Debug, Clone, Serialize)]
pub struct ReferenceArrow {
    pub from: usize,
    pub to: usize,
    pub relationships: Vec<String>,
    /// The cubic Bézier drawn: facing sides across layers; within one layer, a loop out right of both boxes.
    pub curve: [(f64, f64); 4],
}

impl ReferenceArrow {
    fn between(from: &NodeBox, to: &NodeBox, r: &Reference) -> ReferenceArrow {
        let (y1, y2) = (from.y + from.height * 0.75, to.y + to.height * 0.75);
        let curve = if from.layer == to.layer {
            let (x1, x2) = (from.x + from.width, to.x + to.width);
            [(x1, y1), (x1 + REFERENCE_LOOP, y1), (x2 + REFERENCE_LOOP, y2), (x2, y2)]
        } else {
            let (x1, x2) = if from.layer < to.layer {
                (from.x + from.width, to.x)
            } else {
                (from.x, to.x + to.width)
            };
            let mid = (x1 + x2) / 2.0;
            [(x1, y1), (mid, y1), (mid, y2), (x2, y2)]
        };
        ReferenceArrow {
            from: r.from,
            to: r.to,
            relationships: r.relationships.clone(),
            curve,
        }
    }
}

/// A product's box: its layer (0 is leftmost) and its rectangle.
#[derive(Debug, Clone, Serialize)]
pub struct NodeBox {
    pub layer: usize,
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Arrow {
    /// Indexes into `nodes` and `boxes`: from the provider to the consumer.
    pub from: usize,
    pub to: usize,
    /// The contract of the first input port linking them.
    pub contract_id: String,
    /// The arrow closes a cycle: it points back to a layer left of (or at) its start and is drawn in red.
    pub cycle: bool,
    /// The cubic Bézier drawn: start (the provider's right side), two control points, end (the consumer's left).
    pub curve: [(f64, f64); 4],
}

impl Arrow {
    fn between(from: &NodeBox, to: &NodeBox, edge: &Edge) -> Arrow {
        let (x1, y1) = (from.x + from.width, from.y + from.height / 2.0);
        let (x2, y2) = (to.x, to.y + to.height / 2.0);
        let cycle = to.layer <= from.layer;
        // Forward arrows bend halfway across; a cycle loops out right of its start and back in left of its end.
        let bend = if cycle { LOOP } else { (x2 - x1) / 2.0 };
        Arrow {
            from: edge.from,
            to: edge.to,
            contract_id: edge.contract_id.clone(),
            cycle,
            curve: [(x1, y1), (x1 + bend, y1), (x2 - bend, y2), (x2, y2)],
        }
    }
}

/// Layers by longest path from the sources of an acyclic graph (Kahn's topological order), each listing its
/// products in `order`.
fn longest_path_layers(acyclic: &[Vec<usize>], order: &[usize]) -> Vec<Vec<usize>> {
    let mut indegree = vec![0usize; acyclic.len()];
    for list in acyclic {
        for &w in list {
            indegree[w] += 1;
        }
    }
    let mut layer = vec![0usize; acyclic.len()];
    let mut ready: VecDeque<usize> = order.iter().copied().filter(|v| indegree[*v] == 0).collect();
    while let Some(v) = ready.pop_front() {
        for &w in &acyclic[v] {
            layer[w] = layer[w].max(layer[v] + 1);
            indegree[w] -= 1;
            if indegree[w] == 0 {
                ready.push_back(w);
            }
        }
    }
    let depth = layer.iter().copied().max().unwrap_or(0) + 1;
    let mut layers: Vec<Vec<usize>> = vec![Vec::new(); depth];
    for &v in order {
        layers[layer[v]].push(v);
    }
    layers
}

/// A product's box, coloured by health (dashed when external or quarantined), linked to its page when it has one.
fn draw_box(s: &mut String, n: &Node, at: &NodeBox, focused: bool) {
    let (fill, stroke) = match n.health.as_str() {
        "passing" => ("#e3f4ea", "#2e8b57"),
        "warning" => ("#fdf2d0", "#b8860b"),
        "failing" => ("#fbe3e0", "#c0392b"),
        "failed" => ("#eeeeee", "#7b241c"),
        "invalid" => ("#fbe3e0", "#7b241c"),
        _ => ("#ffffff", "#9aa3ae"),
    };
    let title: String = n.title.chars().take(28).collect();
    let sub = if n.health == "external" {
        "not in this mesh".to_string()
    } else {
        format!("{} · {}", n.domain, n.health)
    };
    let dash = if n.health == "external" || n.quarantined {
        r#" stroke-dasharray="4 3""#
    } else {
        ""
    };
    let (x, y) = (at.x, at.y);
    let rect = format!(
        r#"<rect x="{x:.1}" y="{y:.1}" width="{}" height="{}" rx="6" fill="{fill}" stroke="{stroke}" stroke-width="{}"{dash}/><text x="{:.1}" y="{:.1}" class="name">{}</text><text x="{:.1}" y="{:.1}" class="sub">{}{}</text><title>{}</title>"#,
        at.width,
        at.height,
        if focused { 3 } else { 1 },
        x + 8.0,
        y + 17.0,
        escape(&title),
        x + 8.0,
        y + 33.0,
        escape(&sub),
        if n.quarantined { " · quarantined" } else { "" },
        escape(&n.key)
    );
    let class = format!("node health-{}{}", n.health, if focused { " focus" } else { "" });
    let _ = match &n.url {
        Some(u) => write!(
            s,
            r#"<a href="{}" class="{class}" data-key="{}">{rect}</a>"#,
            escape(u),
            escape(&n.key)
        ),
        None => write!(s, r#"<g class="{class}" data-key="{}">{rect}</g>"#, escape(&n.key)),
    };
}

/// The references between products of the catalog, one per referencing → referenced pair, with node indexes.
fn references_between(catalog: &Catalog, nodes: &[Node]) -> Vec<Reference> {
    let index = |key: &str| nodes.iter().position(|n| n.key == key);
    let mut out: Vec<Reference> = Vec::new();
    for (from, to, relationship) in crate::checks::references::edges(&catalog.products) {
        let (Some(from), Some(to)) = (index(&from), index(&to)) else {
            continue;
        };
        match out.iter_mut().find(|r| r.from == from && r.to == to) {
            Some(r) => r.relationships.push(relationship),
            None => out.push(Reference {
                from,
                to,
                relationships: vec![relationship],
            }),
        }
    }
    out
}

/// The key below the boxes: a data-flow arrow and a references edge, each with its meaning.
fn draw_legend(s: &mut String, y: f64) {
    let line = y + 8.0;
    let _ = write!(
        s,
        r##"<g class="legend"><line x1="{x0:.1}" y1="{line:.1}" x2="{x1:.1}" y2="{line:.1}" stroke="#7a8596" stroke-width="1.4" marker-end="url(#arrow)"/><text x="{t0:.1}" y="{text:.1}" class="sub">input port (data flows)</text><line x1="{x2:.1}" y1="{line:.1}" x2="{x3:.1}" y2="{line:.1}" stroke="{REFERENCE_COLOUR}" stroke-width="1.4" stroke-dasharray="2 4" stroke-linecap="round" marker-end="url(#reference-arrow)"/><text x="{t1:.1}" y="{text:.1}" class="sub">references (ODCS relationship, foreign key)</text></g>"##,
        x0 = PAD,
        x1 = PAD + 30.0,
        t0 = PAD + 36.0,
        x2 = PAD + 180.0,
        x3 = PAD + 210.0,
        t1 = PAD + 216.0,
        text = line + 4.0,
    );
}

/// Diagnostics for cycles, one per cycle (on the mesh, naming its products).
pub fn cycle_diagnostics(lineage: &Lineage) -> Vec<crate::base::diagnostics::Diagnostic> {
    lineage
        .cycles
        .iter()
        .map(|c| {
            crate::base::diagnostics::Diagnostic::warning(
                "lineage-cycle",
                format!("the input ports form a cycle: {} consume each other", c.join(", ")),
            )
            .hint("a product cannot (indirectly) consume itself; remove one of the input ports")
        })
        .collect()
}
