//! Server-Sent Events: pages learn about new snapshots and failed rebuilds as they happen.

use super::AppState;
use crate::live::snapshot::Event;
use axum::extract::State;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::stream::{self, Stream, StreamExt};
use std::convert::Infallible;
use std::sync::Arc;
use tokio_stream::wrappers::BroadcastStream;

fn to_sse(e: &Event) -> SseEvent {
    let name = match e {
        Event::Snapshot { .. } => "snapshot",
        Event::Error { .. } => "error",
    };
    SseEvent::default()
        .event(name)
        .data(serde_json::to_string(e).unwrap_or_default())
}

pub async fn stream(State(st): State<Arc<AppState>>) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let rx = st.mesh.events.subscribe();
    // Tell a new listener where things stand, so a page opened during an outage shows it.
    let mut first = vec![Event::Snapshot {
        generation: st.mesh.snapshot().generation,
    }];
    if let Some(message) = st.mesh.last_error() {
        first.push(Event::Error { message });
    }
    let initial = stream::iter(first.into_iter().map(|e| Ok(to_sse(&e))));
    let live = BroadcastStream::new(rx).filter_map(|e| async move { e.ok().map(|e| Ok(to_sse(&e))) });
    Sse::new(initial.chain(live)).keep_alive(KeepAlive::default())
}
