//! The crate's layers hold: data flows ingest -> lake -> engine -> interfaces, and a module
//! never names one of a higher layer (or another module of its own layer). `lib.rs`
//! describes the same order.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Modules from the bottom up; a module may use only those of strictly lower layers.
const LAYERS: &[&[&str]] = &[
    &["error", "progress"],
    &["config"],
    &["model"],
    &["lake"],
    &["engine"],
    &["output"],
    &["ingest", "reports"],
    &["jobs", "generator"],
    &["server", "cluster"],
    &["cli"],
];

/// What the crate root re-exports, by the module it comes from (`root` is the crate root's
/// own `open`, which assembles every layer: only the top may call it).
const REEXPORTS: &[(&str, &str)] = &[
    ("Engine", "engine"),
    ("EngineConfig", "engine"),
    ("Error", "error"),
    ("Result", "error"),
    ("open", "root"),
    ("open_with", "root"),
];

fn layer(module: &str) -> usize {
    if module == "root" {
        return LAYERS.len() - 1; // the top's to use
    }
    LAYERS
        .iter()
        .position(|l| l.contains(&module))
        .unwrap_or_else(|| panic!("module {module} is in no layer: add it to LAYERS"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The crate modules the source `text` names through `crate::` in code (comments, doc
/// links among them, are not imports).
fn named_modules(text: &str) -> BTreeSet<String> {
    let code: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .flat_map(|l| [l, "\n"])
        .collect();
    let text = code.as_str();
    let mut found = BTreeSet::new();
    for (i, _) in text.match_indices("crate::") {
        // `$crate::` in a macro names the crate's root, not a module.
        if text[..i].ends_with('$') {
            continue;
        }
        let rest = &text[i + "crate::".len()..];
        let names: Vec<&str> = if let Some(group) = rest.strip_prefix('{') {
            let group = &group[..group.find('}').unwrap_or(group.len())];
            group
                .split(',')
                .map(|item| item.trim().split("::").next().unwrap_or("").trim())
                .collect()
        } else {
            vec![
                rest.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .next()
                    .unwrap_or(""),
            ]
        };
        for name in names.into_iter().filter(|n| !n.is_empty()) {
            let module = REEXPORTS
                .iter()
                .find(|(item, _)| *item == name)
                .map_or(name, |(_, module)| module);
            found.insert(module.to_string());
        }
    }
    found
}

/// `(file, module, named module)` for every import against the layers.
fn violations(root: &Path) -> Vec<(String, String, String)> {
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    rust_files(&root.join("datasets/generator"), &mut files);
    let mut bad = Vec::new();
    for file in files {
        let rel = file
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .to_string();
        let module = if rel.starts_with("datasets/generator") {
            "generator".to_string()
        } else {
            let inner = rel.trim_start_matches("src/");
            let first = inner.split('/').next().unwrap().trim_end_matches(".rs");
            if first == "lib" || first == "main" {
                continue; // the crate root assembles everything
            }
            first.to_string()
        };
        let text = std::fs::read_to_string(&file).unwrap();
        for named in named_modules(&text) {
            if named == module || (named == "root" && layer(&module) == LAYERS.len() - 1) {
                continue;
            }
            if layer(&named) >= layer(&module) {
                bad.push((rel.clone(), module.clone(), named));
            }
        }
    }
    bad
}

#[test]
fn no_module_imports_a_higher_layer() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bad = violations(root);
    assert!(
        bad.is_empty(),
        "imports against the layers (file, its module, the module it names):\n{bad:#?}"
    );
}

#[test]
fn the_check_sees_an_upward_import() {
    // The checker itself: it must see each form of import a module can use.
    assert_eq!(
        named_modules("use crate::jobs::history::JOB_RUNS;"),
        BTreeSet::from(["jobs".to_string()])
    );
    assert_eq!(
        named_modules("use crate::{Engine, Result, reports::Report};"),
        BTreeSet::from(["engine".into(), "error".into(), "reports".into()])
    );
    assert_eq!(
        named_modules("#[error(\"{}\", crate::lake::cloud::describe(.source))]"),
        BTreeSet::from(["lake".to_string()])
    );
    assert!(named_modules("/// see [`crate::reports`]").is_empty());
    assert!(named_modules("let e = socialcx::lake::open();").is_empty());
    assert!(layer("lake") < layer("jobs") && layer("engine") < layer("reports"));
    assert!(layer("output") < layer("reports") && layer("output") < layer("cli"));
}
