// Attention for a new assignment: a short tone (no audio file) and a desktop notification.
export function askPermission() {
  if ("Notification" in window && Notification.permission === "default") {
    Notification.requestPermission().catch(() => {});
  }
}

let audio = null;
function beep() {
  try {
    audio = audio || new AudioContext();
    const oscillator = audio.createOscillator();
    const gain = audio.createGain();
    oscillator.frequency.value = 880;
    gain.gain.setValueAtTime(0.15, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.4);
    oscillator.connect(gain).connect(audio.destination);
    oscillator.start();
    oscillator.stop(audio.currentTime + 0.4);
  } catch {
    // Autoplay rules may forbid sound before the first click; the toast still shows.
  }
}

export function notify(title, body, onClick) {
  beep();
  if ("Notification" in window && Notification.permission === "granted" && document.hidden) {
    const note = new Notification(title, { body, tag: title });
    note.onclick = () => { window.focus(); onClick?.(); note.close(); };
  }
}
