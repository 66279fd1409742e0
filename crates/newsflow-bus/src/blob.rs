//! Claim checks for payloads too large for one NATS message.
//!
//! NATS servers refuse messages above `max_payload` (1 MiB by default), and
//! a 10 MB page must still pass. Raising the server limit would only move
//! the edge and slows every client; compressing is not enough for the worst
//! pages. So a large payload is written to the JetStream object store
//! (chunked, replicated like the streams) and the message carries the
//! object's name in the `Newsflow-Blob` header and a small JSON stub as body.
//! Objects expire with the bucket's max age; several subscribers may read
//! the same one, so nobody deletes them early.

use async_nats::jetstream::{self, object_store};
use bytes::Bytes;
use tokio::io::AsyncReadExt;

use crate::BusError;

/// Header naming the object that holds the real payload.
pub const HEADER: &str = "Newsflow-Blob";

/// Object name for a payload: stable for a given message id, so a
/// redelivered publish overwrites rather than piles up.
pub fn object_name(subject: &str, msg_id: &str) -> String {
    format!("{subject}/{}", newsflow_core::short_hash(msg_id))
}

/// The body of a claim-check message, for readers that do not resolve it
/// (`nats sub`): says where the payload is.
pub fn stub(name: &str, size: usize) -> Bytes {
    Bytes::from(
        serde_json::json!({ "claim_check": { "bucket": newsflow_core::subjects::BLOB_BUCKET, "object": name, "size": size } })
            .to_string(),
    )
}

async fn bucket(js: &jetstream::Context) -> Result<object_store::ObjectStore, BusError> {
    js.get_object_store(newsflow_core::subjects::BLOB_BUCKET)
        .await
        .map_err(|e| {
            BusError::Blob(format!(
                "bucket {} is missing ({e}); services create it at start-up",
                newsflow_core::subjects::BLOB_BUCKET
            ))
        })
}

pub(crate) async fn put(
    js: &jetstream::Context,
    name: &str,
    payload: &[u8],
) -> Result<(), BusError> {
    let store = bucket(js).await?;
    let mut reader = payload;
    store
        .put(name, &mut reader)
        .await
        .map_err(|e| BusError::Blob(format!("put {name}: {e}")))?;
    Ok(())
}

/// The payload of a message: its body, or the object its header names.
pub(crate) async fn resolve(
    js: &jetstream::Context,
    message: &async_nats::Message,
) -> Result<Bytes, BusError> {
    let name = message
        .headers
        .as_ref()
        .and_then(|h| h.get(HEADER))
        .map(|v| v.as_str().to_string());
    let Some(name) = name else {
        return Ok(message.payload.clone());
    };
    let store = bucket(js).await?;
    let mut object = store
        .get(&name)
        .await
        .map_err(|e| BusError::Blob(format!("get {name}: {e}")))?;
    let mut buf = Vec::new();
    object
        .read_to_end(&mut buf)
        .await
        .map_err(|e| BusError::Blob(format!("read {name}: {e}")))?;
    Ok(Bytes::from(buf))
}
