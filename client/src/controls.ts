// Keyboard state: held keys for flying, and one-shot commands for everything else.
// Flight keys go by position (e.code: W A S D sit where they are on any layout); command keys go by the character
// they type (e.key, either case) when that is an ASCII letter, so J, L, M … work on AZERTY, QWERTZ or Dvorak as
// labelled; any other character (Cyrillic, Hebrew, Arabic, Hangul, an accented letter …) goes by position.

export type Command =
  | 'jump' | 'land' | 'takeOff' | 'colonize' | 'autopilotGate' | 'autopilotLand' | 'map' | 'zoomIn' | 'zoomOut' | 'mapReset'
  | 'cancel';

const COMMAND_KEYS: Record<string, Command> = {
  j: 'jump', l: 'land', t: 'takeOff', c: 'colonize', g: 'autopilotGate', p: 'autopilotLand', m: 'map',
  '+': 'zoomIn', '=': 'zoomIn', '-': 'zoomOut', '_': 'zoomOut', '0': 'mapReset', escape: 'cancel',
};

/** By position, for a key that types no ASCII letter (a key typing "о" or "צ" where J or M is on QWERTY). */
const COMMAND_CODES: Record<string, Command> = {
  KeyJ: 'jump', KeyL: 'land', KeyT: 'takeOff', KeyC: 'colonize', KeyG: 'autopilotGate', KeyP: 'autopilotLand', KeyM: 'map',
  // AZERTY's 0 key types "à" (0 with Shift): by position, as a letter of another script.
  Digit0: 'mapReset',
};

/** Commands that repeat while their key is held. */
const REPEATING = new Set<Command>(['zoomIn', 'zoomOut']);

const FLIGHT = new Set(['KeyW', 'KeyA', 'KeyS', 'KeyD', 'ArrowUp', 'ArrowDown', 'ArrowLeft', 'ArrowRight', 'Space']);

/**
 * The command a key press means. An ASCII letter decides by itself (case-insensitive), as do + = - _ 0 and Escape; any
 * other single character that is not ASCII (a letter of another script, with or without case, an accented letter, a
 * combining mark) goes by the key's position. Other ASCII punctuation or digits mean nothing: on a Latin layout the
 * letter is elsewhere (AZERTY types "," where QWERTY has M).
 */
export function commandFor(key: string, code: string): Command | null {
  const byKey = COMMAND_KEYS[key.toLowerCase()];
  if (byKey) return byKey;
  if (/^[a-z]$/i.test(key)) return null;
  const notAscii = [...key].length === 1 && key.codePointAt(0)! > 0x7f;
  return notAscii ? COMMAND_CODES[code] ?? null : null;
}

export interface KeyLike {
  key: string; code: string; repeat: boolean; ctrlKey?: boolean; metaKey?: boolean; altKey?: boolean;
  target?: unknown; preventDefault(): void;
}

export class Controls {
  private held = new Set<string>();
  private queue: Command[] = [];

  private detachers: (() => void)[] = [];

  attach(target: Window): void {
    const on = <K extends 'keydown' | 'keyup' | 'blur'>(type: K, fn: (e: WindowEventMap[K]) => void) => {
      target.addEventListener(type, fn);
      this.detachers.push(() => target.removeEventListener(type, fn));
    };
    on('keydown', (e) => this.keyDown(e));
    on('keyup', (e) => this.keyUp(e));
    on('blur', () => this.held.clear());
  }

  /** Stops listening (the game stopped: the keys belong to the login screen again). */
  detach(): void {
    for (const off of this.detachers.splice(0)) off();
    this.held.clear();
    this.queue = [];
  }

  keyDown(e: KeyLike): void {
    if ((e.target as { tagName?: string } | null)?.tagName === 'INPUT') return;
    // Ctrl/⌘ shortcuts (Ctrl+S, ⌘A, Ctrl+− zooms the page, ⌘L, Ctrl+T …) belong to the browser, on the flight keys
    // too (AltGr is Ctrl+Alt: a character).
    if (e.metaKey || (e.ctrlKey && !e.altKey)) return;
    if (FLIGHT.has(e.code)) {
      this.held.add(e.code);
      e.preventDefault();
      return;
    }
    const command = commandFor(e.key, e.code);
    if (command && (!e.repeat || REPEATING.has(command))) {
      this.queue.push(command);
      e.preventDefault();
    }
  }

  keyUp(e: { code: string }): void {
    this.held.delete(e.code);
  }

  /** The pilot's stick: thrust and turn in [−1, 1] (turn > 0 is counter-clockwise, to the left), fire. */
  stick(): { thrust: number; turn: number; fire: boolean; any: boolean } {
    const h = this.held;
    const thrust = (h.has('KeyW') || h.has('ArrowUp') ? 1 : 0) - (h.has('KeyS') || h.has('ArrowDown') ? 1 : 0);
    const turn = (h.has('KeyA') || h.has('ArrowLeft') ? 1 : 0) - (h.has('KeyD') || h.has('ArrowRight') ? 1 : 0);
    const fire = h.has('Space');
    return { thrust, turn, fire, any: thrust !== 0 || turn !== 0 || fire };
  }

  take(): Command[] {
    const q = this.queue;
    this.queue = [];
    return q;
  }
}
