//! The sample mesh bundled into the binary, unpacked into the cache folder so `meshbox serve` works anywhere.

use anyhow::Context;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

#[derive(rust_embed::RustEmbed)]
#[folder = "sample-mesh/"]
struct SampleMesh;

/// Unpacks the sample mesh under `cache` (once per content version) and returns its folder.
pub fn unpack(cache: &Path) -> anyhow::Result<PathBuf> {
    let mut names: Vec<String> = SampleMesh::iter().map(|n| n.into_owned()).collect();
    names.sort();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for n in &names {
        n.hash(&mut h);
        if let Some(f) = SampleMesh::get(n) {
            f.data.hash(&mut h);
        }
    }
    let base = cache.join("sample-mesh");
    let dir = base.join(format!("{:016x}", h.finish()));
    if dir.join(".complete").exists() {
        return Ok(dir);
    }
    let staging = base.join(format!(".unpacking-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    for n in &names {
        let Some(f) = SampleMesh::get(n) else {
            continue;
        };
        let target = staging.join(n);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&target, f.data.as_ref()).with_context(|| format!("writing {}", target.display()))?;
    }
    std::fs::write(staging.join(".complete"), b"").context("marking the sample mesh complete")?;
    match std::fs::rename(&staging, &dir) {
        Ok(()) => Ok(dir),
        // Another meshbox unpacked the same version first: use theirs.
        Err(_) if dir.join(".complete").exists() => {
            let _ = std::fs::remove_dir_all(&staging);
            Ok(dir)
        }
        Err(e) => Err(e).with_context(|| format!("moving the sample mesh into {}", dir.display())),
    }
}

/// A file of the bundled sample mesh (e.g. `policies/privacy.yaml`).
pub fn file(name: &str) -> Option<Vec<u8>> {
    SampleMesh::get(name).map(|f| f.data.into_owned())
}

/// The bundled sample mesh's files under `prefix`, sorted.
pub fn files_under(prefix: &str) -> Vec<String> {
    let mut names: Vec<String> = SampleMesh::iter()
        .map(|n| n.into_owned())
        .filter(|n| n.starts_with(prefix))
        .collect();
    names.sort();
    names
}
