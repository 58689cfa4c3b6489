// The studio's "go live from this browser" panel: choose a camera and a
// microphone, preview them, and publish over WHIP with the room's signed
// WHIP URL; stop ends the session.
import { api } from '../api';
import { h } from '../dom';
import { describe } from '../errors';
import { reachable } from '../format';
import { t } from '../i18n';
import { toastError } from '../ui';
import { WhipPublisher } from '../webrtc';

type State = 'off' | 'preview' | 'connecting' | 'live' | 'failed';

/** What the panel says above its preview and on its publish button (the
 * studio's host panel by default; the room page's co-host panel has its
 * own). */
export interface BrowserLiveLabels {
  title: string;
  hint: string;
  goLive: string;
}

/** Builds the panel; cleanups are pushed to stop. It publishes with the
 * WHIP URL of POST /rooms/ID/push-url, which for a co-host is its own
 * member stream's. */
export function browserLive(roomId: string, stop: Array<() => void>, labels?: BrowserLiveLabels): HTMLElement {
  const l = labels ?? { title: t('studio.browser_live'), hint: t('studio.browser_live_hint'), goLive: t('studio.go_live') };
  const preview = h('video', { class: 'video preview', muted: true, playsinline: true, autoplay: true, 'data-testid': 'preview' });
  preview.muted = true;
  const camera = h('select', { 'aria-label': t('studio.camera'), 'data-testid': 'camera' });
  const mic = h('select', { 'aria-label': t('studio.microphone'), 'data-testid': 'microphone' });
  const status = h('span', { class: 'badge', 'data-testid': 'browser-live-state' });
  const msg = h('div', { class: 'form-error', role: 'alert' });
  const onBtn = h('button', { class: 'btn', type: 'button', 'data-testid': 'camera-on' }, t('studio.camera_on'));
  const liveBtn = h('button', { class: 'btn primary', type: 'button', disabled: true, 'data-testid': 'go-live' }, l.goLive);
  const stopBtn = h('button', { class: 'btn danger', type: 'button', hidden: true, 'data-testid': 'stop-live' }, t('studio.stop_live'));
  const panel = h('section', { class: 'panel', 'data-state': 'off' },
    h('div', { class: 'panel-head' }, h('h3', null, l.title), status),
    h('p', { class: 'muted small' }, l.hint),
    preview,
    h('div', { class: 'device-row' },
      h('label', null, t('studio.camera'), camera),
      h('label', null, t('studio.microphone'), mic)),
    msg,
    h('div', { class: 'button-row' }, onBtn, liveBtn, stopBtn));

  let stream: MediaStream | null = null;
  let pub: WhipPublisher | null = null;

  const setState = (s: State) => {
    panel.dataset.state = s;
    status.textContent = t(s === 'live' ? 'studio.browser_live_on' : (`studio.browser_${s}` as 'studio.browser_off'));
    status.className = 'badge' + (s === 'live' ? ' live' : s === 'failed' ? ' warn' : '');
    liveBtn.disabled = !stream || s === 'connecting' || s === 'live';
    liveBtn.hidden = s === 'connecting' || s === 'live';
    stopBtn.hidden = !(s === 'connecting' || s === 'live');
    onBtn.hidden = s === 'connecting' || s === 'live';
    camera.disabled = mic.disabled = s === 'connecting' || s === 'live';
  };
  setState('off');

  const fill = async () => {
    const devices = await navigator.mediaDevices.enumerateDevices();
    for (const [sel, kind] of [[camera, 'videoinput'], [mic, 'audioinput']] as const) {
      const current = sel.value;
      sel.replaceChildren(...devices.filter((d) => d.kind === kind).map((d, i) =>
        h('option', { value: d.deviceId }, d.label || `${kind === 'videoinput' ? t('studio.camera') : t('studio.microphone')} ${i + 1}`)));
      if (current) sel.value = current;
    }
  };

  const open = async () => {
    msg.textContent = '';
    stream?.getTracks().forEach((tr) => tr.stop());
    stream = null;
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        video: camera.value ? { deviceId: { exact: camera.value }, width: 1280, height: 720 } : { width: 1280, height: 720 },
        audio: mic.value ? { deviceId: { exact: mic.value } } : true,
      });
    } catch (e) {
      msg.textContent = t('studio.no_camera') + ' ' + String((e as Error).message ?? e);
      setState('off');
      return;
    }
    preview.srcObject = stream;
    await fill();
    const v = stream.getVideoTracks()[0]?.getSettings().deviceId;
    const a = stream.getAudioTracks()[0]?.getSettings().deviceId;
    if (v) camera.value = v;
    if (a) mic.value = a;
    setState('preview');
  };

  const end = (state: State) => {
    pub?.stop();
    pub = null;
    setState(stream ? (state === 'failed' ? 'failed' : 'preview') : 'off');
  };

  onBtn.addEventListener('click', () => void open());
  camera.addEventListener('change', () => void open());
  mic.addEventListener('change', () => void open());
  liveBtn.addEventListener('click', async () => {
    if (!stream) return;
    msg.textContent = '';
    setState('connecting');
    try {
      const push = await api.pushURL(roomId);
      const p = new WhipPublisher(stream, (s) => {
        if (p !== pub) return;
        if (s === 'connected') setState('live');
        else if (s === 'failed') {
          msg.textContent = t('studio.browser_lost');
          end('failed');
        }
      });
      pub = p;
      await p.start(reachable(push.whip, location.host));
    } catch (e) {
      msg.textContent = describe(e);
      toastError(e);
      end('failed');
    }
  });
  stopBtn.addEventListener('click', () => end('preview'));
  stop.push(() => {
    pub?.stop();
    stream?.getTracks().forEach((tr) => tr.stop());
  });
  return panel;
}
