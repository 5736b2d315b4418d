/**
 * The charts toolbar's "Repeat bands" switch (UiState.repeatBands): shown only while some run is a repeat
 * of a sweep combination (sweep "repeat"), so a panel without repeats looks as it did.
 */
import { hasRepeats } from '../../src/insights/repeats';
import type { PanelRun } from '../../src/protocol/panelMessages';

type Checkbox = HTMLElement & { checked: boolean };

export class RepeatBandsToggle {
  readonly box: Checkbox;

  /** Adds the switch to `toolbar` (before its hint, if any); `changed` after the user flips it. */
  constructor(toolbar: HTMLElement, state: { repeatBands: boolean }, changed: () => void) {
    const box = document.createElement('vscode-checkbox') as Checkbox;
    box.id = 'repeatBands';
    box.setAttribute('label', 'Repeat bands');
    box.title = 'Where a chart shows two or more repeats of one sweep combination: their mean, in a band from their min to their max';
    box.checked = state.repeatBands;
    box.hidden = true;
    box.addEventListener('change', () => {
      state.repeatBands = box.checked;
      changed();
    });
    toolbar.insertBefore(box, toolbar.querySelector('.hint'));
    this.box = box;
  }

  /** The run list changed: show the switch when there are repeats. */
  sync(runs: readonly PanelRun[]): void {
    this.box.hidden = !hasRepeats(runs);
  }
}
