//! Lint agrees with the standards: the corpus in tests/fixtures/lint-corpus (valid files of every ODCS and ODPS
//! version, and over a thousand one-change mutations of them) judged by `meshbox lint` and, through the schema oracle,
//! by the official JSON schemas shipped in registry packages — both must give the verdict the table gives.

use serde_yaml::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/lint-corpus");

/// One document of the corpus and the verdict the table gives it.
struct Case {
    name: String,
    /// The base file's stem, e.g. `odcs-v3.2.0`.
    base: &'static str,
    doc: Value,
    reject: bool,
}

const BASES: &[&str] = &[
    "odcs-v3.0.0",
    "odcs-v3.0.1",
    "odcs-v3.0.2",
    "odcs-v3.1.0",
    "odcs-v3.2.0",
    "odps-v1.0.0",
    "odps-v1.1.0",
];

/// The base files a group name in cases.yaml stands for.
fn group(name: &str) -> Vec<&'static str> {
    let pick = |prefix: &str| BASES.iter().copied().filter(|b| b.starts_with(prefix)).collect();
    match name {
        "odcs" => pick("odcs"),
        "odcs30" => pick("odcs-v3.0"),
        "odcs31" => vec!["odcs-v3.1.0", "odcs-v3.2.0"],
        "odcs300" => pick("odcs-v3.0.0"),
        "odcs301" => pick("odcs-v3.0.1"),
        "odcs302" => pick("odcs-v3.0.2"),
        "odcs310" => pick("odcs-v3.1.0"),
        "odcs32" => pick("odcs-v3.2.0"),
        "odps" => pick("odps"),
        "odps10" => pick("odps-v1.0.0"),
        "odps11" => pick("odps-v1.1.0"),
        other => panic!("cases.yaml names an unknown group `{other}`"),
    }
}

fn file_name(base: &str) -> String {
    let ext = if base.starts_with("odcs") { "odcs" } else { "odps" };
    format!("{base}.{ext}.yaml")
}

fn read_yaml(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The steps of a path in meshbox's notation: `schema[0].properties[1].enum` → schema, 0, properties, 1, enum.
fn steps(path: &str) -> Vec<Result<usize, String>> {
    path.split(['.', '['])
        .filter(|s| !s.is_empty())
        .map(|s| match s.strip_suffix(']') {
            Some(i) => Ok(i.parse().unwrap()),
            None => Err(s.to_string()),
        })
        .collect()
}

/// The parent of the value at `path`, and the last step.
fn parent_of<'v>(doc: &'v mut Value, path: &str) -> (&'v mut Value, Result<usize, String>) {
    let mut steps = steps(path);
    let last = steps.pop().expect("an empty path");
    let mut at = doc;
    for step in steps {
        at = match step {
            Ok(i) => &mut at[i],
            Err(k) => at
                .get_mut(k.as_str())
                .unwrap_or_else(|| panic!("no `{k}` on the way to {path}")),
        };
    }
    (at, last)
}

fn set(doc: &mut Value, path: &str, value: Value) {
    match parent_of(doc, path) {
        (Value::Sequence(items), Ok(i)) => items[i] = value,
        (Value::Mapping(map), Err(k)) => {
            map.insert(Value::String(k), value);
        }
        _ => panic!("cannot set {path}"),
    }
}

fn remove(doc: &mut Value, path: &str) {
    match parent_of(doc, path) {
        (Value::Sequence(items), Ok(i)) => {
            items.remove(i);
        }
        (Value::Mapping(map), Err(k)) => {
            map.remove(k.as_str())
                .unwrap_or_else(|| panic!("nothing to remove at {path}"));
        }
        _ => panic!("cannot remove {path}"),
    }
}

fn str_of<'v>(v: &'v Value, key: &str) -> &'v str {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("a case needs `{key}`: {v:?}"))
}

/// Every document of the corpus: the bases as written, each case on each base it names, each server.
fn corpus() -> Vec<Case> {
    let bases: Vec<(&'static str, Value)> = BASES
        .iter()
        .map(|b| (*b, read_yaml(&Path::new(CORPUS).join(file_name(b)))))
        .collect();
    let base = |stem: &str| bases.iter().find(|(b, _)| *b == stem).unwrap().1.clone();
    let table = read_yaml(&Path::new(CORPUS).join("cases.yaml"));
    let mut out: Vec<Case> = bases
        .iter()
        .map(|(b, doc)| Case {
            name: format!("{b}: as written"),
            base: b,
            doc: doc.clone(),
            reject: false,
        })
        .collect();
    for case in table["cases"].as_sequence().unwrap() {
        for stem in on_bases(case) {
            let mut doc = base(stem);
            match (case.get("set"), case.get("remove")) {
                (Some(s), None) => set(&mut doc, str_of(s, "path"), s["value"].clone()),
                (None, Some(r)) => remove(&mut doc, r.as_str().unwrap()),
                _ => panic!("a case sets or removes one field: {case:?}"),
            }
            let reject = case["reject"].as_bool().expect("reject: true or false");
            out.push(Case {
                name: format!("{stem}: {}", str_of(case, "name")),
                base: stem,
                doc,
                reject,
            });
        }
    }
    for entry in table["servers"].as_sequence().unwrap() {
        for stem in on_bases(entry) {
            out.extend(server_cases(stem, base(stem), &entry["server"]));
        }
    }
    out
}

fn on_bases(entry: &Value) -> Vec<&'static str> {
    let groups = entry["versions"].as_sequence().expect("versions: [groups]");
    groups.iter().flat_map(|g| group(g.as_str().unwrap())).collect()
}

/// A server of one type in place of the base's second server: accepted as written, rejected without any one field.
fn server_cases(stem: &'static str, base: Value, fields: &Value) -> Vec<Case> {
    let mut server = serde_yaml::Mapping::new();
    server.insert("server".into(), "extra".into());
    server.extend(fields.as_mapping().unwrap().clone());
    let kind = str_of(fields, "type").to_string();
    let with = |server: serde_yaml::Mapping, name: String, reject: bool| {
        let mut doc = base.clone();
        set(&mut doc, "servers[1]", Value::Mapping(server));
        Case {
            name: format!("{stem}: {name}"),
            base: stem,
            doc,
            reject,
        }
    };
    let mut out = vec![with(server.clone(), format!("{kind} server"), false)];
    for key in server.keys().filter_map(Value::as_str).filter(|k| *k != "type") {
        let mut without = server.clone();
        without.remove(key);
        out.push(with(without, format!("{kind} server without {key}"), true));
    }
    out
}

/// Writes every case to its own file (named like the base, so lint knows the standard) and lints it.
fn lint_verdicts(cases: &[Case]) -> Vec<Vec<meshbox::base::diagnostics::Diagnostic>> {
    let dir = tempfile::tempdir().unwrap();
    cases
        .iter()
        .enumerate()
        .map(|(i, case)| {
            let folder = dir.path().join(i.to_string());
            std::fs::create_dir(&folder).unwrap();
            let file = folder.join(file_name(case.base));
            std::fs::write(&file, serde_yaml::to_string(&case.doc).unwrap()).unwrap();
            meshbox::folder::lint::lint_file(&file, &folder)
        })
        .collect()
}

#[test]
fn the_corpus_is_large_and_covers_every_version() {
    let cases = corpus();
    assert!(cases.len() > 1000, "{} cases", cases.len());
    for base in BASES {
        let rejected = cases.iter().filter(|c| c.base == *base && c.reject).count();
        assert!(rejected >= 40, "{base}: only {rejected} cases must be rejected");
    }
}

#[test]
fn lint_gives_the_schema_verdict_on_every_case() {
    let cases = corpus();
    let verdicts = lint_verdicts(&cases);
    let mut wrong = Vec::new();
    for (case, diags) in cases.iter().zip(&verdicts) {
        let errors: Vec<String> = diags.iter().filter(|d| d.is_error()).map(|d| d.to_string()).collect();
        if errors.is_empty() == case.reject {
            wrong.push(format!("{} (table: reject={}): {errors:?}", case.name, case.reject));
        }
        for d in diags.iter().filter(|d| d.is_error()) {
            if d.line.is_none() {
                wrong.push(format!("{}: an error without a line: {d}", case.name));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} cases:\n{}",
        wrong.len(),
        cases.len(),
        wrong.join("\n")
    );
}

/// The python of the schema oracle's venv (tests/schema-oracle/setup.sh makes it; .ci/run runs that).
fn oracle_python() -> PathBuf {
    let python = std::env::var_os("MESHBOX_SCHEMA_ORACLE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/meshbox-schema-oracle/bin/python")
        });
    assert!(
        python.is_file(),
        "the schema oracle is not installed at {}: run tests/schema-oracle/setup.sh (or set MESHBOX_SCHEMA_ORACLE \
         to its python)",
        python.display()
    );
    python
}

#[test]
fn the_official_schemas_give_the_table_verdict_on_every_case() {
    let cases = corpus();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut oracle = Command::new(oracle_python())
        .arg(root.join("tests/schema-oracle/oracle.py"))
        .arg(root.join("src/folder/standard_schemas"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = String::new();
    for case in &cases {
        let (standard, version) = case.base.split_once('-').unwrap();
        let doc: serde_json::Value = serde_json::to_value(&case.doc).unwrap();
        let line = serde_json::json!({"name": case.name, "standard": standard, "version": version, "doc": doc});
        input.push_str(&format!("{line}\n"));
    }
    let mut stdin = oracle.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = oracle.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(output.status.success(), "the oracle failed");
    let answers: Vec<serde_json::Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(answers.len(), cases.len());
    let wrong: Vec<String> = cases
        .iter()
        .zip(&answers)
        .filter(|(case, answer)| answer["valid"].as_bool() != Some(!case.reject))
        .map(|(case, answer)| format!("{} (table: reject={}): {}", case.name, case.reject, answer["errors"]))
        .collect();
    assert!(
        wrong.is_empty(),
        "{} of {} cases:\n{}",
        wrong.len(),
        cases.len(),
        wrong.join("\n")
    );
}
