import { Link } from "react-router-dom";

export function NotFound() {
  return (
    <main className="page">
      <div className="state empty">
        <strong>There is no page here.</strong>
        <div>
          The address may be mistyped, or the page was moved. <Link to="/datasets">Go to your datasets</Link>.
        </div>
      </div>
    </main>
  );
}
