// A small live line graph on a canvas (the studio's bitrate).

export class Sparkline {
  readonly canvas: HTMLCanvasElement;
  private values: number[] = [];

  constructor(private capacity = 60, private color = '#ff3d6e') {
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'spark';
    this.canvas.setAttribute('role', 'img');
  }

  push(v: number): void {
    this.values.push(v);
    if (this.values.length > this.capacity) this.values.shift();
    this.draw();
  }

  draw(): void {
    const c = this.canvas;
    const dpr = window.devicePixelRatio || 1;
    const w = c.clientWidth || 300;
    const hgt = c.clientHeight || 80;
    if (c.width !== Math.round(w * dpr)) c.width = Math.round(w * dpr);
    if (c.height !== Math.round(hgt * dpr)) c.height = Math.round(hgt * dpr);
    const g = c.getContext('2d');
    if (!g) return;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, hgt);
    g.strokeStyle = 'rgba(255,255,255,.08)';
    g.lineWidth = 1;
    for (let i = 1; i < 4; i++) {
      const y = Math.round((hgt * i) / 4) + 0.5;
      g.beginPath();
      g.moveTo(0, y);
      g.lineTo(w, y);
      g.stroke();
    }
    const v = this.values;
    if (v.length < 2) return;
    const max = Math.max(...v, 1) * 1.15;
    // Until the window is full, the samples so far span the width.
    const step = w / (Math.max(v.length, 8) - 1);
    const x0 = w - (v.length - 1) * step;
    const pts = v.map((y, i) => [x0 + i * step, hgt - (y / max) * (hgt - 4) - 2] as const);
    const grad = g.createLinearGradient(0, 0, 0, hgt);
    grad.addColorStop(0, this.color + '66');
    grad.addColorStop(1, this.color + '00');
    g.beginPath();
    g.moveTo(pts[0][0], hgt);
    for (const [x, y] of pts) g.lineTo(x, y);
    g.lineTo(pts[pts.length - 1][0], hgt);
    g.closePath();
    g.fillStyle = grad;
    g.fill();
    g.beginPath();
    pts.forEach(([x, y], i) => (i ? g.lineTo(x, y) : g.moveTo(x, y)));
    g.strokeStyle = this.color;
    g.lineWidth = 2;
    g.stroke();
    const [lx, ly] = pts[pts.length - 1];
    g.beginPath();
    g.arc(lx - 3, ly, 3, 0, Math.PI * 2);
    g.fillStyle = this.color;
    g.fill();
  }
}
