package dev.forecaster.model;

/** An artifact that must not serve: wrong checksum, unreadable, or not fitting its metadata. */
public final class ModelArtifactException extends Exception {

  public ModelArtifactException(String message) {
    super(message);
  }

  public ModelArtifactException(String message, Throwable cause) {
    super(message, cause);
  }
}
