// WHIP (publish) and WHEP (play) clients: one SDP offer POSTed, the answer
// applied, the session resource DELETEd at the end (RFC 9725). The server
// answers with all of its candidates, so there is no trickle ICE.

/** A refusal of a WHIP or WHEP POST, with the server's JSON error. */
export class WebRTCError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

/** Waits until ICE gathering completes, at most ms (the server needs none
 * of our candidates: it learns our address from our checks). */
function gathered(pc: RTCPeerConnection, ms: number): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      if (pc.iceGatheringState !== 'complete') return;
      pc.removeEventListener('icegatheringstatechange', done);
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      pc.removeEventListener('icegatheringstatechange', done);
      resolve();
    }, ms);
    pc.addEventListener('icegatheringstatechange', done);
  });
}

/** Offers pc's transceivers to a WHIP or WHEP URL and applies the answer;
 * it returns the session's URL, to DELETE at the end. */
export async function negotiate(pc: RTCPeerConnection, url: string, token?: string): Promise<string> {
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc, 1000);
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/sdp', ...(token ? { Authorization: 'Bearer ' + token } : {}) },
    body: pc.localDescription?.sdp ?? '',
  });
  const body = await res.text();
  if (res.status !== 201) {
    let code = 'http_' + res.status;
    let message = body;
    try {
      const j = JSON.parse(body) as { error?: { code?: string; message?: string } };
      code = j.error?.code ?? code;
      message = j.error?.message ?? message;
    } catch {
      /* not JSON */
    }
    throw new WebRTCError(res.status, code, message);
  }
  const location = new URL(res.headers.get('Location') ?? '', url).toString();
  await pc.setRemoteDescription({ type: 'answer', sdp: body });
  return location;
}

/** Ends a session on the server; failures do not matter (the server ends
 * it anyway when the peer goes away). */
export function hangUp(location: string | null): void {
  if (location) void fetch(location, { method: 'DELETE', keepalive: true }).catch(() => {});
}

/** Estimates how far behind live a WebRTC receiver plays, in seconds:
 * the video jitter buffer's delay plus half the round trip. */
export async function rtcLatency(pc: RTCPeerConnection): Promise<number | null> {
  const stats = await pc.getStats();
  let jitter: number | null = null;
  let rtt = 0;
  stats.forEach((s: Record<string, unknown>) => {
    if (s.type === 'inbound-rtp' && s.kind === 'video' && typeof s.jitterBufferEmittedCount === 'number' && (s.jitterBufferEmittedCount as number) > 0) {
      jitter = (s.jitterBufferDelay as number) / (s.jitterBufferEmittedCount as number);
    }
    if (s.type === 'candidate-pair' && s.nominated && typeof s.currentRoundTripTime === 'number') {
      rtt = s.currentRoundTripTime as number;
    }
  });
  return jitter === null ? null : jitter + rtt / 2;
}

/** Publishes stream's tracks to a WHIP URL (H.264 preferred: roomcast
 * passes video through). */
export class WhipPublisher {
  readonly pc = new RTCPeerConnection();
  private location: string | null = null;

  constructor(readonly stream: MediaStream, readonly onState: (s: RTCPeerConnectionState) => void) {
    this.pc.addEventListener('connectionstatechange', () => onState(this.pc.connectionState));
  }

  async start(url: string, token?: string): Promise<void> {
    for (const track of this.stream.getTracks()) {
      const tr = this.pc.addTransceiver(track, { direction: 'sendonly', streams: [this.stream] });
      if (track.kind === 'video') preferH264(tr);
    }
    this.location = await negotiate(this.pc, url, token);
  }

  stop(): void {
    hangUp(this.location);
    this.location = null;
    this.pc.close();
  }
}

/** Puts H.264 (packetization-mode 1) first in a video transceiver's codecs. */
function preferH264(tr: RTCRtpTransceiver): void {
  const caps = RTCRtpSender.getCapabilities?.('video');
  if (!caps || !tr.setCodecPreferences) return;
  const h264 = caps.codecs.filter((c) => c.mimeType.toLowerCase() === 'video/h264' && /packetization-mode=1/.test(c.sdpFmtpLine ?? ''));
  if (h264.length === 0) return;
  const rest = caps.codecs.filter((c) => !h264.includes(c));
  tr.setCodecPreferences([...h264, ...rest]);
}
