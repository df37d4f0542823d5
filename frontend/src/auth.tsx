/** Who is signed in, for every page; a 401 from any request signs the app out. */

import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from "react";
import { api, onSignedOut, unwrap, type Schemas } from "./api/client";
import { events } from "./api/events";

type User = Schemas["UserPublic"];

interface Auth {
  user: User | null;
  loading: boolean;
  signIn: (username: string, password: string) => Promise<void>;
  signOut: () => Promise<void>;
}

const AuthContext = createContext<Auth | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<User | null>(null);
  const [loading, setLoading] = useState(true);

  useEffect(() => {
    unwrap(api.GET("/api/v1/auth/me"))
      .then(setUser)
      .catch(() => setUser(null))
      .finally(() => setLoading(false));
    return onSignedOut(() => setUser(null));
  }, []);

  useEffect(() => {
    if (user) events.start();
    else events.stop();
  }, [user]);

  const signIn = useCallback(async (username: string, password: string) => {
    const reply = await unwrap(api.POST("/api/v1/auth/login", { body: { username, password } }));
    setUser(reply.user);
  }, []);

  const signOut = useCallback(async () => {
    try {
      await unwrap(api.POST("/api/v1/auth/logout"));
    } finally {
      setUser(null);
    }
  }, []);

  return <AuthContext.Provider value={{ user, loading, signIn, signOut }}>{children}</AuthContext.Provider>;
}

export function useAuth(): Auth {
  const auth = useContext(AuthContext);
  if (!auth) throw new Error("useAuth outside AuthProvider");
  return auth;
}
