// Keyboard state: held keys for flying, and one-shot commands for everything else.

export type Command =
  | 'jump' | 'land' | 'takeOff' | 'colonize' | 'autopilotGate' | 'autopilotLand' | 'map' | 'zoomIn' | 'zoomOut' | 'cancel';

const COMMANDS: Record<string, Command> = {
  KeyJ: 'jump', KeyL: 'land', KeyT: 'takeOff', KeyC: 'colonize', KeyG: 'autopilotGate', KeyP: 'autopilotLand',
  KeyM: 'map', Equal: 'zoomIn', NumpadAdd: 'zoomIn', Minus: 'zoomOut', NumpadSubtract: 'zoomOut', Escape: 'cancel',
};

const FLIGHT = new Set(['KeyW', 'KeyA', 'KeyS', 'KeyD', 'ArrowUp', 'ArrowDown', 'ArrowLeft', 'ArrowRight', 'Space']);

export class Controls {
  private held = new Set<string>();
  private queue: Command[] = [];

  attach(target: Window): void {
    target.addEventListener('keydown', (e) => {
      if (e.target instanceof HTMLInputElement) return;
      if (FLIGHT.has(e.code)) {
        this.held.add(e.code);
        e.preventDefault();
      } else if (!e.repeat && COMMANDS[e.code]) {
        this.queue.push(COMMANDS[e.code]!);
        e.preventDefault();
      }
    });
    target.addEventListener('keyup', (e) => this.held.delete(e.code));
    target.addEventListener('blur', () => this.held.clear());
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
