package dev.forecaster.model;

/**
 * PyTorch's LSTM kernel gives wrong results on this CPU ({@link LstmKernelCheck}): the machine's
 * setup is at fault, not a model, so a model that would load elsewhere is not called broken.
 */
public final class LstmKernelException extends IllegalStateException {

  private static final long serialVersionUID = 1L;

  LstmKernelException(String message) {
    super(message);
  }
}
