// The REST client (docs/api.md). Errors become ApiError with the server's
// stable code, which errors.ts turns into words.

import type { ChatMessage } from './chat';

export interface User {
  id: string;
  name: string;
  role: 'user' | 'admin';
  banned: boolean;
  wechat: boolean;
  created_at: string;
}

export interface Room {
  id: string;
  title: string;
  description: string;
  private: boolean;
  record: boolean;
  stream: string;
  status: 'idle' | 'live' | 'ended';
  live_since: string | null;
  ended_at: string | null;
  viewers: number;
  likes: number;
  owner: { id: string; name: string };
  /** The host and co-hosts with their own streams (the subscribe list). */
  members?: Member[];
  play: {
    rtmp: string; flv: string; ws_flv: string; hls: string; whep: string; expires_at?: string;
    /** The quality ladder's live renditions, tallest first (absent without). */
    renditions?: Rendition[];
  } | null;
  /** JPEG cover: the live cover while live, else the uploaded or last one. */
  cover_url: string | null;
  created_at: string;
  updated_at: string;
}

export interface Member {
  user: { id: string; name: string };
  role: 'host' | 'cohost';
  stream: string;
  live: boolean;
  play: { rtmp: string; flv: string; ws_flv: string; hls: string; expires_at?: string } | null;
}

export interface Replay {
  id: string;
  room_id: string;
  status: 'recording' | 'ready' | 'failed';
  started_at: string;
  ended_at: string | null;
  duration_ms: number;
  bytes: number;
  segments: number;
  recovered: boolean;
  url: string;
  /** JPEG of a frame from the replay's first seconds, once made. */
  poster_url: string | null;
  /** Only in the listing across rooms (recentReplays). */
  room?: Room;
}

/** A rendition of the quality ladder (-abr-ladder). */
export interface Rendition {
  name: string;
  width: number;
  height: number;
  bandwidth: number;
  rtmp: string;
  flv: string;
  ws_flv: string;
  hls: string;
}

export interface PushURL {
  url: string;
  server: string;
  stream_key: string;
  /** The signed WHIP URL (WebRTC publish from a browser). */
  whip: string;
  expires_at: string;
}

export interface StreamStats {
  name: string;
  live: boolean;
  publisher?: { protocol: string; remote_addr: string; since: string };
  video?: { codec: string; width?: number; height?: number; fps: number };
  audio?: { codec: string; sample_rate?: number; channels?: number };
  bitrate_in: number;
  bitrate_out: number;
  viewers: number;
  viewers_by_protocol: Record<string, number> | null;
  dropped_frames: number;
  uptime: number;
}

export interface Login {
  token: string;
  expires_at: string;
  user: User;
  created: boolean;
}

/** An error answered by the server, or a network failure (status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

const TOKEN_KEY = 'roomcast.token';
const USER_KEY = 'roomcast.user';

/** The session kept in localStorage. */
export const session = {
  get token(): string {
    return localStorage.getItem(TOKEN_KEY) ?? '';
  },
  get user(): User | null {
    try {
      return JSON.parse(localStorage.getItem(USER_KEY) ?? 'null') as User | null;
    } catch {
      return null;
    }
  },
  save(l: Login): void {
    localStorage.setItem(TOKEN_KEY, l.token);
    localStorage.setItem(USER_KEY, JSON.stringify(l.user));
  },
  setUser(u: User): void {
    localStorage.setItem(USER_KEY, JSON.stringify(u));
  },
  clear(): void {
    localStorage.removeItem(TOKEN_KEY);
    localStorage.removeItem(USER_KEY);
  },
};

/** Called when the server says the session is no longer valid. */
let onUnauthorized: () => void = () => {};
export function setUnauthorizedHandler(f: () => void): void {
  onUnauthorized = f;
}

export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  const token = session.token;
  if (token) headers.Authorization = `Bearer ${token}`;
  const raw = body instanceof Blob;
  if (body !== undefined && !raw) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(`/api/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : raw ? body : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, 'network', String(e));
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    throw new ApiError(res.status, res.ok ? 'bad_response' : 'http_' + res.status, text.slice(0, 200));
  }
  if (!res.ok) {
    const err = (data as { error?: { code?: string; message?: string } } | null)?.error;
    const retry = Number(res.headers.get('Retry-After') ?? '') || undefined;
    if (res.status === 401 && token) {
      session.clear();
      onUnauthorized();
    }
    throw new ApiError(res.status, err?.code ?? 'http_' + res.status, err?.message ?? res.statusText, retry);
  }
  return data as T;
}

export const api = {
  register: (name: string, password: string) => request<Login>('POST', '/auth/register', { name, password }),
  login: (name: string, password: string) => request<Login>('POST', '/auth/login', { name, password }),
  logout: () => request<void>('POST', '/auth/logout'),
  me: () => request<User>('GET', '/me'),

  rooms: (q: Record<string, string>) =>
    request<{ rooms: Room[]; next_cursor: string }>('GET', '/rooms?' + new URLSearchParams(q).toString()),
  room: (id: string) => request<Room>('GET', `/rooms/${encodeURIComponent(id)}`),
  createRoom: (r: Partial<Pick<Room, 'title' | 'description' | 'private' | 'record'>>) =>
    request<Room>('POST', '/rooms', r),
  updateRoom: (id: string, r: Partial<Pick<Room, 'title' | 'description' | 'private' | 'record'>>) =>
    request<Room>('PATCH', `/rooms/${encodeURIComponent(id)}`, r),
  deleteRoom: (id: string) => request<void>('DELETE', `/rooms/${encodeURIComponent(id)}`),
  addCohost: (id: string, userID: string) => request<Room>('POST', `/rooms/${encodeURIComponent(id)}/cohosts`, { user_id: userID }),
  removeCohost: (id: string, userID: string) =>
    request<void>('DELETE', `/rooms/${encodeURIComponent(id)}/cohosts/${encodeURIComponent(userID)}`),
  /** Uploads a room cover (JPEG, PNG or WebP); the server re-encodes it. */
  setCover: (id: string, image: Blob) => request<Room>('PUT', `/rooms/${encodeURIComponent(id)}/cover`, image),
  pushURL: (id: string) => request<PushURL>('POST', `/rooms/${encodeURIComponent(id)}/push-url`),
  roomStream: (id: string) => request<StreamStats>('GET', `/rooms/${encodeURIComponent(id)}/stream`),
  recentReplays: (limit = 12) =>
    request<{ replays: Replay[]; next_cursor: string }>('GET', `/replays?limit=${limit}`),
  replays: (id: string, limit = 20) =>
    request<{ replays: Replay[]; next_cursor: string }>('GET', `/rooms/${encodeURIComponent(id)}/replays?limit=${limit}`),
  deleteReplay: (id: string) => request<void>('DELETE', `/replays/${encodeURIComponent(id)}`),
  /** A page of the room's chat history before seq before, oldest first. */
  messages: (roomID: string, before: number, limit: number) =>
    request<{ messages: ChatMessage[]; next_before?: number }>('GET',
      `/rooms/${encodeURIComponent(roomID)}/messages?before=${before}&limit=${limit}`),
  moderate: (roomID: string, action: string, body: Record<string, unknown>) =>
    request<void>('POST', `/rooms/${encodeURIComponent(roomID)}/moderation/${action}`, body),

  streams: () => request<{ streams: StreamStats[] }>('GET', '/streams'),
  kickStream: (name: string) => request<void>('DELETE', `/streams/${encodeURIComponent(name)}`),
  users: (cursor = '') =>
    request<{ users: User[]; next_cursor: string }>('GET', '/users?limit=50' + (cursor ? '&cursor=' + encodeURIComponent(cursor) : '')),
  ban: (id: string) => request<User>('POST', `/users/${encodeURIComponent(id)}/ban`),
  unban: (id: string) => request<User>('POST', `/users/${encodeURIComponent(id)}/unban`),
};
