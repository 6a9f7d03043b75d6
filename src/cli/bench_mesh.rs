//! A synthetic mesh for benchmarks (`meshbox bench generate`): N products in D domains, with ODPS input ports forming a lineage DAG, tags,
//! owners, PII columns (some classified, some not) and small CSV files. Deterministic for a given size. [`add_roles`]
//! gives it roles with five distinct masked views and a masking policy.

use std::fmt::Write as _;
use std::path::Path;

/// xorshift64*: small, fast, deterministic.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

const WORDS: &[&str] = &[
    "orders",
    "customers",
    "invoices",
    "payments",
    "shipments",
    "returns",
    "inventory",
    "pricing",
    "campaigns",
    "sessions",
    "claims",
    "policies",
    "accounts",
    "ledger",
    "suppliers",
    "contracts",
    "tickets",
    "devices",
    "sensors",
    "trips",
];
const TAGS: &[&str] = &[
    "finance",
    "marketing",
    "pii",
    "core",
    "kpi",
    "gdpr",
    "realtime",
    "daily",
    "master-data",
    "experimental",
];
const KINDS: &[(&str, &str)] = &[
    ("string", "VARCHAR"),
    ("integer", "BIGINT"),
    ("number", "DOUBLE"),
    ("date", "DATE"),
    ("boolean", "BOOLEAN"),
];

/// One column of a synthetic table: name, ODCS logical type, physical type, classification.
type Column = (String, &'static str, &'static str, Option<&'static str>);

/// Writes the mesh into `root` and returns the product keys in creation order.
pub fn generate(root: &Path, products: usize, domains: usize, rows: usize) -> std::io::Result<Vec<String>> {
    let mut rng = Rng::new(0x5eed + products as u64);
    std::fs::create_dir_all(root)?;
    std::fs::write(
        root.join("mesh.yaml"),
        format!("name: Synthetic mesh ({products} products)\n"),
    )?;
    for d in 0..domains {
        let dir = root.join(format!("domain{d:02}"));
        std::fs::create_dir_all(&dir)?;
        std::fs::write(
            dir.join("domain.yaml"),
            format!("title: Domain {d}\nowner: Team {d}\ndescription: Synthetic domain number {d}.\n"),
        )?;
    }
    let mut keys = Vec::with_capacity(products);
    let mut contract_ids = Vec::with_capacity(products);
    for i in 0..products {
        let d = i % domains;
        let word = WORDS[i % WORDS.len()];
        let name = format!("{word}-{i:04}");
        let table = format!("{}_{i:04}", word);
        let dir = root.join(format!("domain{d:02}")).join(&name);
        std::fs::create_dir_all(&dir)?;
        let contract_id = format!("urn:synthetic:{i}");
        let odps = descriptor(&mut rng, i, d, &table, &contract_id, &contract_ids);
        std::fs::write(dir.join(format!("{name}.odps.yaml")), odps)?;
        let cols = columns(&mut rng);
        std::fs::write(
            dir.join(format!("{name}.odcs.yaml")),
            contract(i, &table, &contract_id, &cols),
        )?;
        std::fs::write(dir.join("data.csv"), csv(&mut rng, word, &cols, rows))?;
        keys.push(format!("domain{d:02}/{name}"));
        contract_ids.push(contract_id);
    }
    Ok(keys)
}

/// Roles that see five different masked views of a generated mesh of at least three domains (`domain01` is internal,
/// `domain02` restricted): by clearance, by what they see unmasked and by domain membership. `steward` and `admin` read
/// everything unmasked (they share the unmasked database). `benches/edits_live.sh` appends the same text.
pub const ROLES: &str = "access:
  default_role: viewer
  default_level: public
  levels:
    domain01: internal
    domain02: restricted
roles:
  viewer: {clearance: public, unmasked: [public]}
  analyst: {clearance: internal, unmasked: [public, internal]}
  auditor: {clearance: restricted, unmasked: [public, restricted]}
  team00: {clearance: public, unmasked: [public], domains: [domain00]}
  team01: {clearance: internal, unmasked: [public], domains: [domain01]}
  steward: {clearance: restricted, unmasked: [\"*\"]}
  admin: {admin: true}
";

/// How the generated columns are masked for roles that may not see them.
pub const MASKING: &str = "masking: {restricted: hash, internal: redact, pii: partial}\n";

/// Gives a generated mesh its roles ([`ROLES`], added to `mesh.yaml`) and masking (`policies/masking.yaml`).
pub fn add_roles(root: &Path) -> std::io::Result<()> {
    let mesh = root.join("mesh.yaml");
    let mut text = std::fs::read_to_string(&mesh)?;
    text.push_str(ROLES);
    std::fs::write(&mesh, text)?;
    std::fs::create_dir_all(root.join("policies"))?;
    std::fs::write(root.join("policies/masking.yaml"), MASKING)
}

/// The served `(schema, table)` of a generated product, from its key (`domain07/orders-0123` → `domain07`,
/// `orders_0123`).
pub fn table_of(key: &str) -> (String, String) {
    let (domain, name) = key.split_once('/').unwrap_or(("", key));
    (domain.to_string(), name.replace('-', "_"))
}

/// Product `i`'s ODPS descriptor: a kind, two tags, its team, input ports on earlier products (for all but
/// source-aligned products) and one output port.
fn descriptor(
    rng: &mut Rng,
    i: usize,
    domain: usize,
    table: &str,
    contract_id: &str,
    earlier_contracts: &[String],
) -> String {
    let word = WORDS[i % WORDS.len()];
    let kind = match rng.below(10) {
        0..=6 => "sourceAligned",
        7 | 8 => "aggregate",
        _ => "consumerAligned",
    };
    let mut odps = String::new();
    let _ = writeln!(
        odps,
        "apiVersion: v1.1.0\nkind: DataProduct\nid: urn:synthetic:product:{i}\nname: {} {i}\nversion: 1.0.0\nstatus: active\ntype: {kind}",
        word.to_uppercase()
    );
    let _ = writeln!(
        odps,
        "description:\n  purpose: Synthetic {word} data number {i} for benchmarks.\n  usage: Join on id."
    );
    let t1 = rng.pick(TAGS);
    let t2 = rng.pick(TAGS);
    let _ = writeln!(odps, "tags: [{t1}, {t2}]\nteam:\n  name: Team {domain}");
    if i > 0 && kind != "sourceAligned" {
        let _ = writeln!(odps, "inputPorts:");
        for _ in 0..(1 + rng.below(3)) {
            let up = rng.below(i as u64) as usize;
            let _ = writeln!(
                odps,
                "  - name: in-{up}\n    version: 1.0.0\n    contractId: {}",
                earlier_contracts[up]
            );
        }
    }
    let _ = writeln!(
        odps,
        "outputPorts:\n  - name: {table}\n    type: tables\n    version: 1.0.0\n    contractId: {contract_id}"
    );
    odps
}

/// 4 to 11 columns: `id`, an `email` in two products of three (classified in two of those three), and typed others.
fn columns(rng: &mut Rng) -> Vec<Column> {
    let ncols = 4 + rng.below(8) as usize;
    let mut cols: Vec<Column> = vec![("id".into(), "integer", "BIGINT", None)];
    // PII columns: classified in two products of three.
    let pii = rng.below(3);
    if pii > 0 {
        let classified = if rng.below(3) > 0 { Some("restricted") } else { None };
        cols.push(("email".into(), "string", "VARCHAR", classified));
    }
    for c in cols.len()..ncols {
        let (lt, pt) = *rng.pick(KINDS);
        cols.push((format!("col_{c}"), lt, pt, Some("internal")));
    }
    cols
}

/// Product `i`'s ODCS contract: one table with a row-count rule, its columns, and a local CSV server.
fn contract(i: usize, table: &str, contract_id: &str, cols: &[Column]) -> String {
    let word = WORDS[i % WORDS.len()];
    let mut odcs = String::new();
    let _ = writeln!(
        odcs,
        "apiVersion: v3.1.0\nkind: DataContract\nid: {contract_id}\nversion: 1.0.0\nstatus: active\nname: {table}"
    );
    let _ = writeln!(
        odcs,
        "schema:\n  - name: {table}\n    description: Synthetic table {i}.\n    quality:\n      - metric: rowCount\n        mustBeGreaterThan: 0\n    properties:"
    );
    for (cname, lt, pt, class) in cols {
        let _ = writeln!(
            odcs,
            "      - name: {cname}\n        logicalType: {lt}\n        physicalType: {pt}\n        description: The {cname} of {word}."
        );
        if let Some(c) = class {
            let _ = writeln!(odcs, "        classification: {c}");
        }
        if cname == "id" {
            let _ = writeln!(odcs, "        primaryKey: true\n        required: true");
        }
    }
    let _ = writeln!(
        odcs,
        "servers:\n  - server: local\n    type: local\n    format: csv\n    path: data.csv"
    );
    odcs
}

/// `rows` rows of random values of each column's type.
fn csv(rng: &mut Rng, word: &str, cols: &[Column], rows: usize) -> String {
    let mut csv = cols.iter().map(|c| c.0.clone()).collect::<Vec<_>>().join(",");
    csv.push('\n');
    for r in 0..rows {
        let vals: Vec<String> = cols
            .iter()
            .map(|(cname, lt, _, _)| match (cname.as_str(), *lt) {
                ("id", _) => r.to_string(),
                ("email", _) => format!("user{}@example.com", rng.below(100_000)),
                (_, "integer") => rng.below(1000).to_string(),
                (_, "number") => format!("{}.{:02}", rng.below(1000), rng.below(100)),
                (_, "date") => format!("2026-{:02}-{:02}", 1 + rng.below(12), 1 + rng.below(28)),
                (_, "boolean") => (rng.below(2) == 0).to_string(),
                _ => format!("{}-{}", word, rng.below(50)),
            })
            .collect();
        csv.push_str(&vals.join(","));
        csv.push('\n');
    }
    csv
}
