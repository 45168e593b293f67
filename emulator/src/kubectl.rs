//! Running the real `kubectl` against a kubeconfig, as the conformance tests of the emulator
//! and of the embedded cluster do.

use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::process::Command;

/// `kubectl` with a kubeconfig and a discovery cache of its own.
pub struct Kubectl {
    kubeconfig: PathBuf,
    /// A folder of its own, removed with it.
    _dir: Option<tempfile::TempDir>,
}

impl Kubectl {
    /// kubectl for the cluster in `kubeconfig` (its cache goes beside it).
    pub fn new(kubeconfig: &Path) -> Self {
        Self { kubeconfig: kubeconfig.to_owned(), _dir: None }
    }

    /// kubectl with a kubeconfig path in a new temporary folder, for the caller to write.
    ///
    /// # Panics
    /// When no temporary folder can be made.
    pub fn temporary() -> Self {
        let dir = tempfile::tempdir().expect("a temporary folder");
        Self { kubeconfig: dir.path().join("kubeconfig"), _dir: Some(dir) }
    }

    /// kubectl for an emulator served at `addr`, with its kubeconfig in a temporary folder.
    ///
    /// # Panics
    /// When the kubeconfig cannot be written.
    pub fn for_server(addr: std::net::SocketAddr) -> Self {
        let k = Self::temporary();
        std::fs::write(&k.kubeconfig, crate::Emulator::kubeconfig(&format!("http://{addr}"))).expect("kubeconfig");
        k
    }

    /// The kubeconfig.
    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    /// Runs kubectl; returns (success, stdout, stderr).
    ///
    /// # Panics
    /// When kubectl cannot be started (it is not installed).
    pub async fn run(&self, args: &[&str]) -> (bool, String, String) {
        let out = Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .arg("--cache-dir")
            .arg(self.kubeconfig.with_file_name("kubectl-cache"))
            .args(args)
            .output()
            .await
            .expect("kubectl must be installed (cargo xtask test installs it)");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Runs kubectl, which must succeed; returns its output.
    ///
    /// # Panics
    /// When it fails.
    pub async fn ok(&self, args: &[&str]) -> String {
        let (ok, out, err) = self.run(args).await;
        assert!(ok, "kubectl {args:?} failed: {err}");
        out
    }

    /// Runs kubectl, which must fail; returns its error output.
    ///
    /// # Panics
    /// When it succeeds.
    pub async fn fails(&self, args: &[&str]) -> String {
        let (ok, out, err) = self.run(args).await;
        assert!(!ok, "kubectl {args:?} should fail, printed {out}");
        err
    }

    /// Waits (up to 15 s) until kubectl prints `want` (surrounding whitespace aside).
    ///
    /// # Panics
    /// When it does not.
    pub async fn until(&self, args: &[&str], want: &str) {
        let mut last = String::new();
        for _ in 0..150 {
            last = self.run(args).await.1;
            if last.trim() == want {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("kubectl {args:?} printed {last:?}, not {want:?}");
    }
}
