import { BrowserRouter, Navigate, Route, Routes } from "react-router-dom";
import { AdminPage } from "./admin/AdminPage";
import { AuthProvider, useAuth } from "./auth";
import { Layout } from "./components/Layout";
import { Loading } from "./components/ui";
import { Datasets } from "./pages/Datasets";
import { NotFound } from "./pages/NotFound";
import { SignIn } from "./pages/SignIn";
import { Tokens } from "./pages/Tokens";
import { Workers } from "./pages/Workers";
import { PipelinePage } from "./pipelines/PipelinePage";
import { PipelinesPage } from "./pipelines/PipelinesPage";
import { RunPage } from "./runs/RunPage";
import { RunsPage } from "./runs/RunsPage";
import { WorkspacePage } from "./workspace/Workspace";

function Routed() {
  const { user, loading } = useAuth();
  if (loading) return <Loading what="Datamill" />;
  if (!user) return <SignIn />;
  return (
    <Routes>
      <Route element={<Layout />}>
        <Route index element={<Navigate to="/datasets" replace />} />
        <Route path="datasets" element={<Datasets />} />
        <Route path="datasets/:datasetId" element={<WorkspacePage />} />
        <Route path="pipelines" element={<PipelinesPage />} />
        <Route path="pipelines/:name" element={<PipelinePage />} />
        <Route path="runs" element={<RunsPage />} />
        <Route path="runs/:runId" element={<RunPage />} />
        <Route path="workers" element={<Workers />} />
        <Route path="admin/*" element={<AdminPage />} />
        <Route path="tokens" element={<Tokens />} />
        <Route path="*" element={<NotFound />} />
      </Route>
    </Routes>
  );
}

export function App() {
  return (
    <AuthProvider>
      <BrowserRouter>
        <Routed />
      </BrowserRouter>
    </AuthProvider>
  );
}
