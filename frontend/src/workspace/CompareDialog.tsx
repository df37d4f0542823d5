import { api, unwrap } from "../api/client";
import { Dialog, ErrorNote, Loading, formatCount } from "../components/ui";
import { useLoad } from "../load";

function show(value: unknown): string {
  return value === null || value === undefined ? "null" : String(value);
}

/** What changed between two revisions: columns, then rows added, removed and changed, with a sample. */
export function CompareDialog({
  datasetId,
  from,
  to,
  onClose,
}: {
  datasetId: string;
  from: { id: string; number: number | null };
  to: { id: string; number: number | null };
  onClose: () => void;
}) {
  const comparison = useLoad(
    () =>
      unwrap(
        api.GET("/api/v1/datasets/{dataset_id}/compare", {
          params: { path: { dataset_id: datasetId }, query: { from: from.id, to: to.id, sample: 20 } },
        }),
      ),
    [datasetId, from.id, to.id],
  );
  const data = comparison.data;
  return (
    <Dialog title={`Revision ${from.number} → revision ${to.number}`} onClose={onClose} wide>
      <div className="form">
        <ErrorNote error={comparison.error} onRetry={comparison.reload} />
        {comparison.loading && !data && <Loading what="the comparison" />}
        {data && (
          <>
            <dl className="facts compare-facts">
              <div>
                <dt>Rows</dt>
                <dd>
                  {formatCount(data.rows_before)} → {formatCount(data.rows_after)}
                </dd>
              </div>
              <div>
                <dt>Rows added / removed / changed</dt>
                <dd>
                  {formatCount(data.added)} / {formatCount(data.removed)} / {formatCount(data.changed)}
                </dd>
              </div>
              <div>
                <dt>Rows matched by</dt>
                <dd>{data.match}</dd>
              </div>
              {data.columns.added.length > 0 && (
                <div>
                  <dt>Columns added</dt>
                  <dd>{data.columns.added.join(", ")}</dd>
                </div>
              )}
              {data.columns.removed.length > 0 && (
                <div>
                  <dt>Columns removed</dt>
                  <dd>{data.columns.removed.join(", ")}</dd>
                </div>
              )}
              {data.columns.retyped.map((change) => (
                <div key={change.column}>
                  <dt>Retyped {change.column}</dt>
                  <dd>
                    {change.from} → {change.to}
                  </dd>
                </div>
              ))}
              {Object.entries(data.cells_changed).map(([column, count]) => (
                <div key={column}>
                  <dt>Cells changed in {column}</dt>
                  <dd>{formatCount(count)}</dd>
                </div>
              ))}
            </dl>
            {data.sample.changed.length > 0 && (
              <>
                <h3>Some changed rows</h3>
                <table className="list compact">
                  <thead>
                    <tr>
                      <th>Row</th>
                      <th>Column</th>
                      <th>Before</th>
                      <th>After</th>
                    </tr>
                  </thead>
                  <tbody>
                    {data.sample.changed.flatMap((row) =>
                      Object.entries(row.cells as Record<string, { before: unknown; after: unknown }>).map(([column, cell]) => (
                        <tr key={`${String(row.at)}-${column}`}>
                          <td>{typeof row.at === "number" ? row.at + 1 : show(row.at)}</td>
                          <td>{column}</td>
                          <td className="before">{show(cell.before)}</td>
                          <td className="after">{show(cell.after)}</td>
                        </tr>
                      )),
                    )}
                  </tbody>
                </table>
              </>
            )}
            {data.sample.removed.length > 0 && (
              <>
                <h3>Some removed rows</h3>
                <pre className="sample">{data.sample.removed.map((row) => row.map(show).join(" | ")).join("\n")}</pre>
              </>
            )}
            {data.sample.added.length > 0 && (
              <>
                <h3>Some added rows</h3>
                <pre className="sample">{data.sample.added.map((row) => row.map(show).join(" | ")).join("\n")}</pre>
              </>
            )}
          </>
        )}
      </div>
    </Dialog>
  );
}
