package dev.forecaster.trainer;

/**
 * The history cannot train the model as asked: no reading carries its features, too few windows for
 * a split or a search, no form fits. Not a fault of the trainer: the message says what to check
 * (the readings, the model's features and target, the test day), so no stack trace is needed to act
 * on it.
 */
public class TrainingDataException extends IllegalArgumentException {

  public TrainingDataException(String message) {
    super(message);
  }
}
