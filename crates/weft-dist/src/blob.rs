//! The blob store: content-addressed blobs in an [`object_store`] (a local or shared
//! directory as `file://…`, memory as `memory:///`; other stores through `object_store`'s
//! features).
//!
//! A blob lives at `<prefix>/<digest>` where the digest is the BLAKE3 of its bytes, so writing
//! the same bytes twice is harmless and a reader can always check what it got. `put` is atomic
//! (the local store writes a temporary file and renames it), so a reader never sees half a
//! blob.

use std::{path::Path as FsPath, sync::Arc};

use bytes::Bytes;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, local::LocalFileSystem, path::Path};

use crate::{Digest, DistError, JobError};

/// A content-addressed blob store.
#[derive(Clone, Debug)]
pub struct BlobStore {
    store: Arc<dyn ObjectStore>,
    prefix: Path,
}

impl BlobStore {
    /// Opens the store at `url`: a URL `object_store` knows (`file:///abs/dir`,
    /// `memory:///`), or a plain directory path, created if missing.
    ///
    /// # Errors
    /// [`DistError::StoreUrl`] for a URL that cannot be opened.
    pub fn open(url: &str) -> Result<Self, DistError> {
        let fail = |message: String| DistError::StoreUrl {
            url: url.to_owned(),
            message,
        };
        if !url.contains("://") {
            std::fs::create_dir_all(url).map_err(|e| fail(e.to_string()))?;
            let store = LocalFileSystem::new_with_prefix(FsPath::new(url))
                .map_err(|e| fail(e.to_string()))?;
            return Ok(Self {
                store: Arc::new(store),
                prefix: Path::from("blobs"),
            });
        }
        let parsed = url::Url::parse(url).map_err(|e| fail(e.to_string()))?;
        if parsed.scheme() == "file" {
            let dir = parsed
                .to_file_path()
                .map_err(|()| fail("not a local path".into()))?;
            std::fs::create_dir_all(&dir).map_err(|e| fail(e.to_string()))?;
        }
        let (store, prefix) = object_store::parse_url(&parsed).map_err(|e| fail(e.to_string()))?;
        Ok(Self {
            store: Arc::from(store),
            prefix: prefix.clone().join("blobs"),
        })
    }

    fn path(&self, digest: &Digest) -> Path {
        self.prefix.clone().join(digest.to_string())
    }

    /// Where a blob lies inside the store (for tools and tests).
    pub fn location(&self, digest: &Digest) -> String {
        self.path(digest).to_string()
    }

    /// Stores `bytes` (overwriting a blob of the same name, which repairs a damaged copy) and
    /// returns their digest.
    ///
    /// # Errors
    /// [`JobError::Store`] from the store.
    pub async fn put(&self, bytes: Vec<u8>) -> Result<Digest, JobError> {
        let digest = Digest::of(&bytes);
        self.store
            .put(&self.path(&digest), PutPayload::from(bytes))
            .await
            .map_err(|e| JobError::Store(e.to_string()))?;
        Ok(digest)
    }

    /// Reads the blob `digest`, refusing one of more than `limit` bytes before reading it, and
    /// checks its digest.
    ///
    /// # Errors
    /// [`JobError::Store`] (a missing blob included), [`JobError::BlobTooLarge`],
    /// [`JobError::DigestMismatch`].
    pub async fn get(&self, digest: &Digest, limit: u64) -> Result<Bytes, JobError> {
        let path = self.path(digest);
        let store_error = |e: object_store::Error| JobError::Store(e.to_string());
        let meta = self.store.head(&path).await.map_err(store_error)?;
        if meta.size > limit {
            return Err(JobError::BlobTooLarge {
                digest: *digest,
                size: meta.size,
                limit,
            });
        }
        let bytes = self
            .store
            .get(&path)
            .await
            .map_err(store_error)?
            .bytes()
            .await
            .map_err(store_error)?;
        if bytes.len() as u64 > limit {
            return Err(JobError::BlobTooLarge {
                digest: *digest,
                size: bytes.len() as u64,
                limit,
            });
        }
        let found = Digest::of(&bytes);
        if found != *digest {
            return Err(JobError::DigestMismatch {
                expected: *digest,
                found,
            });
        }
        Ok(bytes)
    }
}
