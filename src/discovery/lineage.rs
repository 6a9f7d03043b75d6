//! Lineage between products: an ODPS input port naming a contract makes the product that provides the contract
//! upstream of the one that consumes it. Cycles are found (and reported), impact is walked downstream, and any part
//! of the graph is drawn as SVG with a layered layout (layers by longest path, order by barycentres).

use crate::governance::compliance::Compliance;
use crate::model::catalog::Catalog;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::fmt::Write as _;

#[derive(Debug, Clone, Serialize)]
pub struct Node {
    pub key: String,
    pub domain: String,
    pub name: String,
    pub title: String,
    pub owner: Option<String>,
    /// passing, warning, failing, failed — or `external` for a contract no product of the mesh provides.
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

#[derive(Debug, Clone, Default, Serialize)]
pub struct Lineage {
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
    /// Each cycle as the product keys on it.
    pub cycles: Vec<Vec<String>>,
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
        let mut lineage = Lineage {
            nodes,
            edges,
            cycles: Vec::new(),
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

    /// Layers (columns, left to right) and the order within each, for drawing.
    fn layout(&self) -> Vec<Vec<usize>> {
        let n = self.nodes.len();
        if n == 0 {
            return Vec::new();
        }
        // Edges that close a cycle are ignored for layering (depth-first back edges).
        let succ = self.successors();
        let mut state = vec![0u8; n];
        let mut acyclic: Vec<Vec<usize>> = vec![Vec::new(); n];
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|a, b| {
            (&self.nodes[*a].domain, &self.nodes[*a].name).cmp(&(&self.nodes[*b].domain, &self.nodes[*b].name))
        });
        for &root in &order {
            if state[root] != 0 {
                continue;
            }
            let mut stack = vec![(root, 0usize)];
            state[root] = 1;
            while let Some((v, i)) = stack.pop() {
                if i < succ[v].len() {
                    stack.push((v, i + 1));
                    let w = succ[v][i];
                    match state[w] {
                        0 => {
                            acyclic[v].push(w);
                            state[w] = 1;
                            stack.push((w, 0));
                        }
                        2 => acyclic[v].push(w),
                        _ => {} // back edge
                    }
                } else {
                    state[v] = 2;
                }
            }
        }
        // Longest path from the sources, in topological order (Kahn).
        let mut indegree = vec![0usize; n];
        for list in &acyclic {
            for &w in list {
                indegree[w] += 1;
            }
        }
        let mut layer = vec![0usize; n];
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
        for &v in &order {
            layers[layer[v]].push(v);
        }
        // Barycentre sweeps: order each layer by the mean position of its neighbours in the previous one.
        let preds = self.predecessors();
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
        layers
    }

    /// The graph as an SVG drawing: products as boxes coloured by health, linked to their pages; `focus` is
    /// drawn thicker.
    pub fn svg(&self, focus: Option<&str>) -> String {
        const W: f64 = 210.0;
        const H: f64 = 42.0;
        const GAP_X: f64 = 90.0;
        const GAP_Y: f64 = 16.0;
        const PAD: f64 = 12.0;
        let layers = self.layout();
        let mut at: BTreeMap<usize, (f64, f64)> = BTreeMap::new();
        let tallest = layers.iter().map(Vec::len).max().unwrap_or(0);
        for (l, nodes) in layers.iter().enumerate() {
            // Centre shorter layers against the tallest one.
            let offset = (tallest - nodes.len()) as f64 * (H + GAP_Y) / 2.0;
            for (i, v) in nodes.iter().enumerate() {
                at.insert(
                    *v,
                    (PAD + l as f64 * (W + GAP_X), PAD + offset + i as f64 * (H + GAP_Y)),
                );
            }
        }
        let width = PAD * 2.0 + layers.len() as f64 * (W + GAP_X) - GAP_X;
        let height = PAD * 2.0 + tallest as f64 * (H + GAP_Y) - GAP_Y;
        let mut s = String::new();
        let _ = write!(
            s,
            r##"<svg xmlns="http://www.w3.org/2000/svg" class="lineage" width="{w:.0}" height="{h:.0}" viewBox="0 0 {w:.0} {h:.0}" role="img" aria-label="lineage: {n} products, {e} dependencies"><defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#7a8596"/></marker></defs>"##,
            w = width.max(W + 2.0 * PAD),
            h = height.max(H + 2.0 * PAD),
            n = self.nodes.len(),
            e = self.edges.len()
        );
        let mut drawn = BTreeSet::new();
        for e in &self.edges {
            let (Some(a), Some(b)) = (at.get(&e.from), at.get(&e.to)) else {
                continue;
            };
            if !drawn.insert((e.from, e.to)) {
                continue;
            }
            let (x1, y1) = (a.0 + W, a.1 + H / 2.0);
            let (x2, y2) = (b.0, b.1 + H / 2.0);
            let back = x2 <= x1;
            let bend = if back { 120.0 } else { (x2 - x1) / 2.0 };
            let _ = write!(
                s,
                r#"<path class="edge{}" d="M {x1:.1} {y1:.1} C {:.1} {y1:.1}, {:.1} {y2:.1}, {x2:.1} {y2:.1}" fill="none" stroke="{}" stroke-width="1.4" marker-end="url(#arrow)"><title>{} → {} ({})</title></path>"#,
                if back { " cycle" } else { "" },
                x1 + bend,
                x2 - bend,
                if back { "#c0392b" } else { "#7a8596" },
                escape(&self.nodes[e.from].key),
                escape(&self.nodes[e.to].key),
                escape(&e.contract_id)
            );
        }
        for (i, n) in self.nodes.iter().enumerate() {
            let Some((x, y)) = at.get(&i) else { continue };
            let (fill, stroke) = match n.health.as_str() {
                "passing" => ("#e3f4ea", "#2e8b57"),
                "warning" => ("#fdf2d0", "#b8860b"),
                "failing" => ("#fbe3e0", "#c0392b"),
                "failed" => ("#eeeeee", "#7b241c"),
                _ => ("#ffffff", "#9aa3ae"),
            };
            let focused = focus == Some(n.key.as_str());
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
            let rect = format!(
                r#"<rect x="{x:.1}" y="{y:.1}" width="{W}" height="{H}" rx="6" fill="{fill}" stroke="{stroke}" stroke-width="{}"{dash}/><text x="{:.1}" y="{:.1}" class="name">{}</text><text x="{:.1}" y="{:.1}" class="sub">{}{}</text><title>{}</title>"#,
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
            match &n.url {
                Some(u) => {
                    let _ = write!(
                        s,
                        r#"<a href="{}" class="{class}" data-key="{}">{rect}</a>"#,
                        escape(u),
                        escape(&n.key)
                    );
                }
                None => {
                    let _ = write!(s, r#"<g class="{class}" data-key="{}">{rect}</g>"#, escape(&n.key));
                }
            }
        }
        s.push_str("</svg>");
        s
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
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
