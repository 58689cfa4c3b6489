// The glass-to-glass probe of glass.mjs and webrtc.test.mjs: a page draws
// its clock (performance.now(), in ms) as a code of black and white blocks
// on a canvas, publishes the canvas over WHIP, plays the stream back over
// WHEP, and for each frame it shows reads the code back from the picture:
// latency = now − the clock drawn into that frame.

/** Runs in Chromium (page.evaluate): want samples after the first 3 s;
 * returns { samples, bad, codec, firstFrame } (ms from the WHEP POST to the
 * first decoded frame). */
export async function measure({ whip, whep, want }) {
  const W = 640, H = 360, BITS = 24, COLS = 12, CELL = 40, TOP = 60, LEFT = 80;
  const src = document.createElement('canvas');
  src.width = W; src.height = H;
  const g = src.getContext('2d');
  const draw = () => {
    const t = Math.round(performance.now()) & ((1 << BITS) - 1);
    g.fillStyle = '#808080';
    g.fillRect(0, 0, W, H);
    for (let i = 0; i < BITS; i++) {
      g.fillStyle = (t >> i) & 1 ? '#ffffff' : '#000000';
      g.fillRect(LEFT + (i % COLS) * CELL, TOP + Math.floor(i / COLS) * CELL * 2, CELL, CELL);
    }
  };
  draw();
  const timer = setInterval(draw, 5);
  const ac = new AudioContext();
  const osc = ac.createOscillator();
  const dest = ac.createMediaStreamDestination();
  osc.connect(dest);
  osc.start();
  const stream = src.captureStream(30);
  stream.addTrack(dest.stream.getAudioTracks()[0]);

  const gathered = (pc) => new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') return resolve();
    pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && resolve());
  });
  const exchange = async (pc, url) => {
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    const r = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: pc.localDescription.sdp });
    if (r.status !== 201) throw new Error(`${url}: ${r.status} ${await r.text()}`);
    await pc.setRemoteDescription({ type: 'answer', sdp: await r.text() });
  };

  const pub = new RTCPeerConnection();
  for (const track of stream.getTracks()) {
    const tr = pub.addTransceiver(track, { direction: 'sendonly' });
    if (track.kind === 'video') {
      const h264 = RTCRtpSender.getCapabilities('video').codecs.filter((c) => c.mimeType === 'video/H264');
      tr.setCodecPreferences(h264);
    }
  }
  await exchange(pub, whip);

  // The stream goes live when the server has its first frames.
  const play = new RTCPeerConnection();
  play.addTransceiver('video', { direction: 'recvonly' });
  play.addTransceiver('audio', { direction: 'recvonly' });
  const video = document.createElement('video');
  video.muted = true;
  video.playsInline = true;
  document.body.append(video);
  play.ontrack = (e) => {
    if (e.track.kind === 'video') video.srcObject = new MediaStream([e.track]);
  };
  let posted = 0;
  for (let i = 0; ; i++) {
    try {
      posted = performance.now();
      await exchange(play, whep);
      break;
    } catch (e) {
      if (i > 50) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  await video.play();
  // From the successful WHEP POST to the first frame Chromium decoded.
  const firstFrame = await new Promise((resolve) => video.requestVideoFrameCallback(() => resolve(performance.now() - posted)));

  const dst = document.createElement('canvas');
  dst.width = W; dst.height = H;
  const d = dst.getContext('2d', { willReadFrequently: true });
  const samples = [];
  let bad = 0;
  let frames = 0;
  const skip = 75; // the first 3 s: the GOP cache's burst, the jitter buffer settling
  await new Promise((resolve) => {
    const onFrame = () => {
      const now = performance.now();
      if (video.videoWidth === W && ++frames > skip) {
        d.drawImage(video, 0, 0, W, H);
        let t = 0, ok = true;
        for (let i = 0; i < BITS; i++) {
          const x = LEFT + (i % COLS) * CELL + CELL / 2, y = TOP + Math.floor(i / COLS) * CELL * 2 + CELL / 2;
          const v = d.getImageData(x, y, 1, 1).data[0];
          if (v > 60 && v < 196) ok = false; // neither black nor white
          if (v >= 128) t |= 1 << i;
        }
        const nowBits = Math.round(now) & ((1 << BITS) - 1);
        const lat = (nowBits - t + (1 << BITS)) % (1 << BITS);
        if (ok && lat < 10000) samples.push(lat);
        else bad++;
      }
      if (samples.length >= want) return resolve();
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  });
  clearInterval(timer);
  const stats = await pub.getStats();
  let codec = '';
  stats.forEach((s) => { if (s.type === 'codec' && s.mimeType?.startsWith('video/')) codec = s.mimeType; });
  pub.close();
  play.close();
  return { samples, bad, codec, firstFrame };
}

/** Nearest-rank percentile p of sorted s. */
export function percentile(s, p) {
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}
