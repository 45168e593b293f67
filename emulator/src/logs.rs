//! Container logs, as a kubelet keeps them: lines per container of a pod (the running instance
//! and the previous one), followed live through a channel.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use tokio::sync::broadcast;

/// How many lines are kept per container instance.
const KEEP: usize = 10_000;

/// Which container: namespace, pod, container.
pub type ContainerRef = (String, String, String);

/// One line, with when it was written (RFC 3339, nanoseconds).
#[derive(Clone, Debug)]
pub struct Line {
    /// The container.
    pub container: ContainerRef,
    /// When.
    pub time: String,
    /// The text, without its newline.
    pub text: String,
}

#[derive(Default)]
struct Buffers {
    current: VecDeque<Line>,
    previous: Option<Vec<Line>>,
}

/// The logs of every container.
pub struct Logs {
    buffers: Mutex<HashMap<ContainerRef, Buffers>>,
    live: broadcast::Sender<Line>,
}

impl Default for Logs {
    fn default() -> Self {
        Self { buffers: Mutex::default(), live: broadcast::channel(1024).0 }
    }
}

impl Logs {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ContainerRef, Buffers>> {
        self.buffers.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Appends a line to a container's log.
    pub fn append(&self, container: ContainerRef, text: impl Into<String>) {
        let time = jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%S.%fZ").to_string();
        let line = Line { container: container.clone(), time, text: text.into() };
        let mut buffers = self.lock();
        let b = buffers.entry(container).or_default();
        if b.current.len() == KEEP {
            b.current.pop_front();
        }
        b.current.push_back(line.clone());
        drop(buffers);
        // Nobody following is fine.
        let _ = self.live.send(line);
    }

    /// The container restarted: its log so far becomes the previous instance's.
    pub fn restart(&self, container: ContainerRef) {
        let mut buffers = self.lock();
        let b = buffers.entry(container).or_default();
        b.previous = Some(b.current.drain(..).collect());
    }

    /// Forgets a pod's logs (it was deleted).
    pub fn forget_pod(&self, namespace: &str, pod: &str) {
        self.lock().retain(|(ns, p, _), _| !(ns == namespace && p == pod));
    }

    /// The lines of the current instance (or the previous one: `None` if there was none), and a
    /// receiver for lines to come, taken together so that none is missed.
    pub fn read(&self, container: &ContainerRef, previous: bool) -> (Option<Vec<Line>>, broadcast::Receiver<Line>) {
        let buffers = self.lock();
        let rx = self.live.subscribe();
        let lines = match buffers.get(container) {
            None if previous => None,
            None => Some(Vec::new()),
            Some(b) if previous => b.previous.clone(),
            Some(b) => Some(b.current.iter().cloned().collect()),
        };
        (lines, rx)
    }
}
