/**
 * An empty password is sent only on purpose. A Connect with the Password method and an empty
 * Password field is stopped in the page (a slip must not count toward the gateway's login ban):
 * the form says "The password is empty." and shows **Log in with an empty password** right after
 * the field (Tab from the field reaches it), which submits the form once with the empty password.
 * Typing a password, or another method, takes the button away again.
 */
import { byId } from './dom.js';

export const EMPTY_PASSWORD_TEXT = 'The password is empty.';

export class EmptyPassword {
  readonly #button = byId('empty-password-btn', HTMLButtonElement);
  readonly #password: HTMLInputElement;
  readonly #abort = new AbortController();
  /** The button was pressed: the next submit may send the empty password (once). */
  #confirmed = false;

  constructor(form: HTMLFormElement, password: HTMLInputElement, method: HTMLSelectElement) {
    this.#password = password;
    const signal = this.#abort.signal;
    this.#button.addEventListener('click', () => {
      this.#confirmed = true;
      // The button goes away: the keyboard goes where a Connect would have left it.
      byId('connect-btn').focus();
      form.requestSubmit();
      this.#confirmed = false;
    }, { signal });
    const off = (): void => {
      this.#button.hidden = true;
      password.removeAttribute('aria-invalid');
    };
    password.addEventListener('input', off, { signal });
    method.addEventListener('change', off, { signal });
  }

  /**
   * At Connect with the Password method: true when the password may go out (not empty, or the
   * button sent it); false shows the button, and the caller says EMPTY_PASSWORD_TEXT at the field.
   */
  mayGo(): boolean {
    if (this.#password.value !== '' || this.#confirmed) {
      this.#button.hidden = true;
      return true;
    }
    this.#button.hidden = false;
    return false;
  }

  dispose(): void {
    this.#abort.abort();
  }
}
