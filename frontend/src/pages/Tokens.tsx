import { useState, type FormEvent } from "react";
import { api, unwrap, type Schemas } from "../api/client";
import { Empty, ErrorNote, Loading, formatWhen } from "../components/ui";
import { useLoad } from "../load";

type Created = Schemas["TokenCreated"];

function NewToken({ token, onDone }: { token: Created; onDone: () => void }) {
  const [copied, setCopied] = useState(false);
  return (
    <div className="card notice" role="status">
      <strong>Your new token “{token.name}”</strong>
      <p>
        Copy it now: it is shown only once. Scripts send it as <code>Authorization: Bearer …</code>.
      </p>
      <div className="copy-row">
        <code className="secret" data-testid="new-token">
          {token.token}
        </code>
        <button
          type="button"
          onClick={() => {
            void navigator.clipboard?.writeText(token.token).then(() => setCopied(true));
          }}
        >
          {copied ? "Copied" : "Copy"}
        </button>
        <button type="button" className="link" onClick={onDone}>
          Done
        </button>
      </div>
    </div>
  );
}

export function Tokens() {
  const tokens = useLoad(() => unwrap(api.GET("/api/v1/tokens")), []);
  const [name, setName] = useState("");
  const [created, setCreated] = useState<Created>();
  const [error, setError] = useState<unknown>();

  async function create(event: FormEvent) {
    event.preventDefault();
    setError(undefined);
    try {
      setCreated(await unwrap(api.POST("/api/v1/tokens", { body: { name } })));
      setName("");
      tokens.reload();
    } catch (reason) {
      setError(reason);
    }
  }

  async function revoke(id: string) {
    setError(undefined);
    try {
      await unwrap(api.DELETE("/api/v1/tokens/{token_id}", { params: { path: { token_id: id } } }));
      tokens.reload();
    } catch (reason) {
      setError(reason);
    }
  }

  const list = tokens.data?.data ?? [];
  return (
    <main className="page narrow">
      <div className="page-head">
        <h1>API tokens</h1>
      </div>
      <p className="muted">
        Tokens let scripts, the command line and notebooks act as you. Revoke a token as soon as you no longer need it.
      </p>
      <form className="inline-form" onSubmit={create}>
        <input
          value={name}
          onChange={(e) => setName(e.target.value)}
          placeholder="What is it for? e.g. laptop CLI"
          aria-label="Token name"
          required
        />
        <button type="submit" className="primary">
          Create token
        </button>
      </form>
      <ErrorNote error={error} />
      {created && <NewToken token={created} onDone={() => setCreated(undefined)} />}
      <ErrorNote error={tokens.error} onRetry={tokens.reload} />
      {tokens.loading && !tokens.data ? (
        <Loading what="tokens" />
      ) : list.length === 0 ? (
        <Empty title="No tokens yet.">Create one above to use Datamill from a script or the command line.</Empty>
      ) : (
        <table className="list">
          <thead>
            <tr>
              <th>Name</th>
              <th>Starts with</th>
              <th>Created</th>
              <th>Last used</th>
              <th aria-label="Actions" />
            </tr>
          </thead>
          <tbody>
            {list.map((token) => (
              <tr key={token.id}>
                <td>{token.name}</td>
                <td>
                  <code>{token.prefix}…</code>
                </td>
                <td>{formatWhen(token.created_at)}</td>
                <td>{token.last_used_at ? formatWhen(token.last_used_at) : "never"}</td>
                <td className="row-actions">
                  <button type="button" className="link danger-text" onClick={() => void revoke(token.id)}>
                    Revoke
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </main>
  );
}
