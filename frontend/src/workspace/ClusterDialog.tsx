import { useState } from "react";
import { api, unwrap, type Schemas } from "../api/client";
import { messageOf } from "../api/problem";
import { Dialog, ErrorNote, Loading, formatCount } from "../components/ui";
import type { GridColumn } from "../grid/Grid";

type Clusters = Schemas["Clusters"];
type Method = "fingerprint" | "ngram-fingerprint" | "levenshtein";

interface Choice {
  merge: boolean;
  to: string;
}

/** OpenRefine's "Cluster and edit": find clusters of similar values, choose the value to keep, merge. */
export function ClusterDialog({
  datasetId,
  baseRevision,
  columns,
  initialColumn,
  onStarted,
  onClose,
}: {
  datasetId: string;
  baseRevision: string;
  columns: GridColumn[];
  initialColumn?: string;
  onStarted: (runId: string, label: string) => void;
  onClose: () => void;
}) {
  const texts = columns.filter((c) => c.type === "text");
  const [column, setColumn] = useState(texts.find((c) => c.name === initialColumn)?.name ?? texts[0]?.name ?? "");
  const [method, setMethod] = useState<Method>("fingerprint");
  const [found, setFound] = useState<Clusters>();
  const [choices, setChoices] = useState<Choice[]>([]);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  async function find() {
    setBusy(true);
    setError(undefined);
    try {
      const reply = await unwrap(
        api.GET("/api/v1/datasets/{dataset_id}/clusters", { params: { path: { dataset_id: datasetId }, query: { column, method } } }),
      );
      setFound(reply);
      setChoices(reply.clusters.map((cluster) => ({ merge: true, to: cluster.suggestion })));
    } catch (reason) {
      setError(reason);
    } finally {
      setBusy(false);
    }
  }

  async function merge() {
    if (!found) return;
    const clusters = found.clusters
      .map((cluster, i) => ({ values: cluster.values.map((v) => v.value), to: choices[i].to, merge: choices[i].merge }))
      .filter((cluster) => cluster.merge)
      .map(({ values, to }) => ({ values, to }));
    setBusy(true);
    setError(undefined);
    try {
      const reply = await unwrap(
        api.POST("/api/v1/datasets/{dataset_id}/operations", {
          params: { path: { dataset_id: datasetId } },
          body: { op: "merge-clusters", params: { column: found.column, clusters }, base_revision: baseRevision },
        }),
      );
      onStarted(reply.run_id, `Merge ${clusters.length} cluster${clusters.length === 1 ? "" : "s"}`);
      onClose();
    } catch (reason) {
      setError(new Error(messageOf(reason)));
    } finally {
      setBusy(false);
    }
  }

  const chosen = choices.filter((c) => c.merge).length;
  return (
    <Dialog title="Cluster and merge similar values" onClose={onClose} wide>
      <div className="form">
        {texts.length === 0 ? (
          <p>This dataset has no text column to cluster.</p>
        ) : (
          <div className="user-form-row">
            <label className="field">
              <span className="field-label">Column</span>
              <select value={column} onChange={(e) => setColumn(e.target.value)}>
                {texts.map((c) => (
                  <option key={c.name}>{c.name}</option>
                ))}
              </select>
            </label>
            <label className="field">
              <span className="field-label">Method</span>
              <select value={method} onChange={(e) => setMethod(e.target.value as Method)}>
                <option value="fingerprint">key collision: fingerprint</option>
                <option value="ngram-fingerprint">key collision: n-gram fingerprint</option>
                <option value="levenshtein">nearest neighbours: Levenshtein</option>
              </select>
            </label>
            <button type="button" className="primary" disabled={busy || !column} onClick={() => void find()}>
              Find clusters
            </button>
          </div>
        )}
        <ErrorNote error={error} />
        {busy && !found && <Loading what="clusters" />}
        {found && found.clusters.length === 0 && (
          <p className="muted">No cluster: no two values of {found.column} look alike by this method. Try another one.</p>
        )}
        {found && found.clusters.length > 0 && (
          <>
            <div className="muted small">
              {found.clusters.length} {found.clusters.length === 1 ? "cluster" : "clusters"} among {formatCount(found.distinct)} distinct
              values.
            </div>
            <div className="clusters">
              <table className="list">
                <thead>
                  <tr>
                    <th>Merge?</th>
                    <th>Values in the cluster</th>
                    <th className="num">Rows</th>
                    <th>New value</th>
                  </tr>
                </thead>
                <tbody>
                  {found.clusters.map((cluster, i) => (
                    <tr key={i}>
                      <td>
                        <input
                          type="checkbox"
                          aria-label={`Merge cluster ${i + 1}`}
                          checked={choices[i].merge}
                          onChange={(e) => setChoices(choices.map((c, j) => (j === i ? { ...c, merge: e.target.checked } : c)))}
                        />
                      </td>
                      <td>
                        {cluster.values.map((value) => (
                          <button
                            key={value.value}
                            type="button"
                            className="cluster-value"
                            title="Use this value"
                            onClick={() => setChoices(choices.map((c, j) => (j === i ? { ...c, to: value.value } : c)))}
                          >
                            “{value.value}” <span className="muted">× {formatCount(value.count)}</span>
                          </button>
                        ))}
                      </td>
                      <td className="num">{formatCount(cluster.rows)}</td>
                      <td>
                        <input
                          aria-label={`New value for cluster ${i + 1}`}
                          value={choices[i].to}
                          onChange={(e) => setChoices(choices.map((c, j) => (j === i ? { ...c, to: e.target.value } : c)))}
                        />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <div className="actions">
              <button type="button" onClick={onClose}>
                Close
              </button>
              <button type="button" className="primary" disabled={busy || chosen === 0} onClick={() => void merge()}>
                Merge {chosen} cluster{chosen === 1 ? "" : "s"}
              </button>
            </div>
          </>
        )}
      </div>
    </Dialog>
  );
}
