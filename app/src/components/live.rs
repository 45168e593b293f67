//! A page's live stream: one server-sent-events connection (the browser reconnects by itself),
//! each `state` event handed to the page, and the connection's state for the "live" badge.

use leptos::prelude::*;
use serde::de::DeserializeOwned;
use sidecar_api::ErrorBody;

/// The state of a live stream, as the page frame shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Live {
    /// Not connected yet (and always, on the server).
    Connecting,
    /// Changes arrive as they happen.
    Live,
    /// The connection broke; the browser is reconnecting.
    Reconnecting,
    /// The stream ended for good (what it watched is gone).
    Ended,
}

impl Live {
    /// Words for the badge.
    pub fn words(self) -> &'static str {
        match self {
            Live::Connecting => "connecting",
            Live::Live => "live",
            Live::Reconnecting => "reconnecting",
            Live::Ended => "not live",
        }
    }
}

/// Opens the stream at `url` (re-opened when it changes) while the calling component lives:
/// each `state` event is decoded as a `T` and given to `on_state`; an `error` event (what the
/// stream watched is gone, say) to `on_error`, and the stream ends; an `unavailable` event
/// (Kubernetes out of reach) shows the stream as reconnecting until the next `state`.
pub fn follow<T>(
    url: impl Fn() -> String + Send + Sync + 'static,
    on_state: impl Fn(T) + Clone + Send + Sync + 'static,
    on_error: impl Fn(ErrorBody) + Clone + Send + Sync + 'static,
) -> ReadSignal<Live>
where
    T: DeserializeOwned + 'static,
{
    let (status, set_status) = signal(Live::Connecting);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        let url = url();
        if let Some(source) = browser::open::<T>(&url, on_state.clone(), on_error.clone(), set_status) {
            let source = send_wrapper::SendWrapper::new(source);
            on_cleanup(move || drop(source));
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (url, on_state, on_error, set_status);
    status
}

/// Log lines from a server-sent-events endpoint that sends `line` events.
#[cfg(feature = "hydrate")]
pub mod browser {
    use super::Live;
    use leptos::prelude::*;
    use serde::de::DeserializeOwned;
    use sidecar_api::ErrorBody;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;
    use web_sys::{EventSource, MessageEvent};

    /// An open event source and its listeners; closing happens on drop.
    pub struct Source {
        source: EventSource,
        _listeners: Vec<Closure<dyn FnMut(web_sys::Event)>>,
    }

    impl Drop for Source {
        fn drop(&mut self) {
            self.source.close();
        }
    }

    /// Opens `url`, calling `on(event name, data)` for each event named in `names`.
    pub fn listen(
        url: &str,
        names: &[&str],
        on: impl Fn(&str, String) + Clone + 'static,
        set_status: WriteSignal<Live>,
    ) -> Option<Source> {
        let source = EventSource::new(url).ok()?;
        let mut listeners = Vec::new();
        for name in names {
            let on = on.clone();
            let owned = (*name).to_owned();
            let l = Closure::<dyn FnMut(web_sys::Event)>::new(move |e: web_sys::Event| {
                if let Some(m) = e.dyn_ref::<MessageEvent>() {
                    on(&owned, m.data().as_string().unwrap_or_default());
                }
            });
            let _ = source.add_event_listener_with_callback(name, l.as_ref().unchecked_ref());
            listeners.push(l);
        }
        let opened = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| set_status.set(Live::Live));
        let _ = source.add_event_listener_with_callback("open", opened.as_ref().unchecked_ref());
        listeners.push(opened);
        let weak = source.clone();
        let broke = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
            // The browser reconnects unless the stream was closed.
            if weak.ready_state() == EventSource::CLOSED {
                set_status.set(Live::Ended);
            } else {
                set_status.set(Live::Reconnecting);
            }
        });
        // An `error` event with data is the server's; one without is the connection's.
        let _ = source.add_event_listener_with_callback("error", broke.as_ref().unchecked_ref());
        listeners.push(broke);
        Some(Source { source, _listeners: listeners })
    }

    pub(super) fn open<T: DeserializeOwned + 'static>(
        url: &str,
        on_state: impl Fn(T) + Clone + 'static,
        on_error: impl Fn(ErrorBody) + Clone + 'static,
        set_status: WriteSignal<Live>,
    ) -> Option<Source> {
        let source = std::rc::Rc::new(std::cell::RefCell::new(None::<EventSource>));
        let handle = source.clone();
        let opened = listen(
            url,
            &["state", "error", "unavailable"],
            move |name, data| {
                if name == "state" {
                    if let Ok(state) = serde_json::from_str::<T>(&data) {
                        set_status.set(Live::Live);
                        on_state(state);
                    }
                } else if name == "unavailable" {
                    set_status.set(Live::Reconnecting);
                } else if let Ok(body) = serde_json::from_str::<ErrorBody>(&data) {
                    if let Some(s) = handle.borrow().as_ref() {
                        s.close();
                    }
                    set_status.set(Live::Ended);
                    on_error(body);
                }
            },
            set_status,
        )?;
        *source.borrow_mut() = Some(opened.source.clone());
        Some(opened)
    }
}
