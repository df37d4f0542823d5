import { useEffect, useRef, useState, type DragEvent } from "react";
import { Link } from "react-router-dom";
import { api, unwrap, type Schemas } from "../api/client";
import { useLiveEvents } from "../api/events";
import { messageOf } from "../api/problem";
import { UploadCancelled, uploadDataset } from "../api/upload";
import { useAuth } from "../auth";
import { Dialog, Empty, ErrorNote, Loading, formatBytes, formatCount, formatWhen } from "../components/ui";
import { useLoad } from "../load";

type Dataset = Schemas["DatasetPublic"];

const PAGE = 50;
const ACCEPT = ".csv,.txt,.tsv,.tab,.xlsx,.json,.jsonl,.ndjson,.parquet,.pq";
const MAX_LIMIT = 500;

interface Upload {
  key: number;
  name: string;
  fraction: number;
  state: "sending" | "reading" | "failed";
  error?: string;
  cancel: () => void;
}

function stem(filename: string): string {
  const dot = filename.lastIndexOf(".");
  return dot > 0 ? filename.slice(0, dot) : filename;
}

function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = window.setTimeout(() => setSettled(value), ms);
    return () => window.clearTimeout(timer);
  }, [value, ms]);
  return settled;
}

function Uploads({ onUploaded }: { onUploaded: () => void }) {
  const [uploads, setUploads] = useState<Upload[]>([]);
  const [over, setOver] = useState(false);
  const picker = useRef<HTMLInputElement>(null);
  const counter = useRef(0);

  function change(key: number, patch: Partial<Upload>) {
    setUploads((list) => list.map((u) => (u.key === key ? { ...u, ...patch } : u)));
  }

  function start(file: File) {
    const key = ++counter.current;
    const handle = uploadDataset(file, stem(file.name), (fraction) =>
      change(key, { fraction, state: fraction >= 1 ? "reading" : "sending" }),
    );
    setUploads((list) => [...list, { key, name: file.name, fraction: 0, state: "sending", cancel: handle.cancel }]);
    handle.done
      .then(() => {
        setUploads((list) => list.filter((u) => u.key !== key));
        onUploaded();
      })
      .catch((error: unknown) => {
        if (error instanceof UploadCancelled) setUploads((list) => list.filter((u) => u.key !== key));
        else change(key, { state: "failed", error: messageOf(error) });
      });
  }

  function drop(event: DragEvent) {
    event.preventDefault();
    setOver(false);
    Array.from(event.dataTransfer.files).forEach(start);
  }

  return (
    <>
      <div
        className={over ? "dropzone over" : "dropzone"}
        onDragOver={(event) => {
          event.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={drop}
      >
        <span>
          Drop CSV, TSV, Excel, JSON or Parquet files here, or{" "}
          <button type="button" className="link" onClick={() => picker.current?.click()}>
            choose files
          </button>
          .
        </span>
        <input
          ref={picker}
          type="file"
          multiple
          accept={ACCEPT}
          hidden
          data-testid="upload-input"
          onChange={(event) => {
            Array.from(event.target.files ?? []).forEach(start);
            event.target.value = "";
          }}
        />
      </div>
      {uploads.map((upload) => (
        <div className="upload" key={upload.key}>
          <span className="upload-name">{upload.name}</span>
          {upload.state === "failed" ? (
            <>
              <span className="error-text" role="alert">
                {upload.error}
              </span>
              <button type="button" className="link" onClick={() => setUploads((l) => l.filter((u) => u.key !== upload.key))}>
                Dismiss
              </button>
            </>
          ) : (
            <>
              <progress max={1} value={upload.state === "reading" ? undefined : upload.fraction} />
              <span className="muted">{upload.state === "reading" ? "Reading the file…" : `${Math.round(upload.fraction * 100)}%`}</span>
              <button type="button" onClick={upload.cancel}>
                Cancel
              </button>
            </>
          )}
        </div>
      ))}
    </>
  );
}

function SharingDialog({ dataset, onClose, onSaved }: { dataset: Dataset; onClose: () => void; onSaved: () => void }) {
  const [everyone, setEveryone] = useState(dataset.sharing.everyone ?? false);
  const [users, setUsers] = useState((dataset.sharing.users ?? []).join(", "));
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  async function save() {
    setBusy(true);
    setError(undefined);
    const names = users
      .split(/[\s,]+/)
      .map((name) => name.trim())
      .filter(Boolean);
    try {
      await unwrap(
        api.PATCH("/api/v1/datasets/{dataset_id}", {
          params: { path: { dataset_id: dataset.id } },
          body: { sharing: { everyone, users: names } },
        }),
      );
      onSaved();
      onClose();
    } catch (reason) {
      setError(reason);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog title={`Share “${dataset.name}”`} onClose={onClose}>
      <div className="form">
        <label className="check">
          <input type="checkbox" checked={everyone} onChange={(e) => setEveryone(e.target.checked)} />
          Everyone signed in may read it
        </label>
        <label>
          People who may read it
          <input value={users} onChange={(e) => setUsers(e.target.value)} placeholder="usernames, separated by commas" />
        </label>
        <p className="muted">Only you and admins can change it. Readers can export it and copy it into their own datasets.</p>
        <ErrorNote error={error} />
        <div className="actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="button" className="primary" disabled={busy} onClick={() => void save()}>
            Save sharing
          </button>
        </div>
      </div>
    </Dialog>
  );
}

function DeleteDialog({ dataset, onClose, onDeleted }: { dataset: Dataset; onClose: () => void; onDeleted: () => void }) {
  const [error, setError] = useState<unknown>();
  async function remove() {
    try {
      await unwrap(api.DELETE("/api/v1/datasets/{dataset_id}", { params: { path: { dataset_id: dataset.id } } }));
      onDeleted();
      onClose();
    } catch (reason) {
      setError(reason);
    }
  }
  return (
    <Dialog title="Delete dataset" onClose={onClose}>
      <div className="form">
        <p>
          Delete <strong>{dataset.name}</strong> and all of its revisions? This cannot be undone.
        </p>
        <ErrorNote error={error} />
        <div className="actions">
          <button type="button" onClick={onClose}>
            Keep it
          </button>
          <button type="button" className="danger" onClick={() => void remove()}>
            Delete
          </button>
        </div>
      </div>
    </Dialog>
  );
}

export function Datasets() {
  const { user } = useAuth();
  const [search, setSearch] = useState("");
  const [limit, setLimit] = useState(PAGE);
  const q = useDebounced(search.trim(), 250);
  const list = useLoad(
    () => unwrap(api.GET("/api/v1/datasets", { params: { query: { q: q || undefined, limit, offset: 0 } } })),
    [q, limit],
  );
  const [sharing, setSharing] = useState<Dataset>();
  const [deleting, setDeleting] = useState<Dataset>();
  useLiveEvents(["dataset.revision"], () => list.reloadSoon());

  const data = list.data?.data ?? [];
  return (
    <main className="page">
      <div className="page-head">
        <h1>Datasets</h1>
        <input
          className="search"
          type="search"
          placeholder="Search by name or description"
          aria-label="Search datasets"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
        />
      </div>
      <Uploads onUploaded={list.reload} />
      <ErrorNote error={list.error} onRetry={list.reload} />
      {list.loading && !list.data ? (
        <Loading what="datasets" />
      ) : data.length === 0 && !list.error ? (
        q ? (
          <Empty title={`No dataset matches “${q}”.`}>Try another word, or clear the search.</Empty>
        ) : (
          <Empty title="No datasets yet.">Drop a file above to upload your first one.</Empty>
        )
      ) : (
        <table className="list">
          <thead>
            <tr>
              <th>Name</th>
              <th>Owner</th>
              <th className="num">Rows</th>
              <th className="num">Columns</th>
              <th className="num">Size</th>
              <th>Last change</th>
              <th aria-label="Actions" />
            </tr>
          </thead>
          <tbody>
            {data.map((dataset) => {
              const mine = dataset.owner === user?.username || user?.role === "admin";
              const head = dataset.head_revision;
              return (
                <tr key={dataset.id}>
                  <td>
                    <Link to={`/datasets/${dataset.id}`} className="strong">
                      {dataset.name}
                    </Link>
                    {dataset.description && <div className="muted small">{dataset.description}</div>}
                  </td>
                  <td>{dataset.owner}</td>
                  <td className="num">{head ? formatCount(head.row_count) : "—"}</td>
                  <td className="num">{head ? formatCount(head.columns.length) : "—"}</td>
                  <td className="num">{head ? formatBytes(head.size_bytes) : "—"}</td>
                  <td title={dataset.updated_at}>{formatWhen(dataset.updated_at)}</td>
                  <td className="row-actions">
                    {mine && (
                      <>
                        <button type="button" className="link" onClick={() => setSharing(dataset)}>
                          Share
                        </button>
                        <button type="button" className="link danger-text" onClick={() => setDeleting(dataset)}>
                          Delete
                        </button>
                      </>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {list.data && list.data.count > data.length && limit < MAX_LIMIT && (
        <button type="button" className="more" onClick={() => setLimit(Math.min(MAX_LIMIT, limit + PAGE))}>
          Show more ({formatCount(list.data.count - data.length)} left)
        </button>
      )}
      {sharing && <SharingDialog dataset={sharing} onClose={() => setSharing(undefined)} onSaved={list.reload} />}
      {deleting && <DeleteDialog dataset={deleting} onClose={() => setDeleting(undefined)} onDeleted={list.reload} />}
    </main>
  );
}
