// A button whose action is asked again in a modal dialog (the browser's <dialog>: focus
// moves into it, Escape closes it, the page behind cannot be reached meanwhile).
import type { ComponentChildren } from 'preact';
import { useRef, useState } from 'preact/hooks';

export interface ConfirmProps {
  label: string;
  question: string;
  confirmLabel: string;
  /** Runs on confirmation; a thrown error is shown in the dialog. */
  onConfirm: () => Promise<void>;
  disabled?: boolean;
  danger?: boolean;
  children?: ComponentChildren;
}

export function Confirm({ label, question, confirmLabel, onConfirm, disabled, danger, children }: ConfirmProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [error, setError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const confirm = async () => {
    setBusy(true);
    try {
      await onConfirm();
      dialog.current?.close();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button type="button" class={danger ? 'danger' : ''} disabled={disabled} onClick={() => (setError(undefined), dialog.current?.showModal())}>
        {label}
      </button>
      <dialog ref={dialog} aria-label={question}>
        <p>{question}</p>
        {children}
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <div class="actions">
          <button type="button" onClick={() => dialog.current?.close()}>
            Back
          </button>
          <button type="button" class={danger ? 'danger' : 'primary'} disabled={busy} onClick={confirm}>
            {confirmLabel}
          </button>
        </div>
      </dialog>
    </>
  );
}
