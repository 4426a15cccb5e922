package dev.forecaster.schemas.csv;

import java.nio.file.Path;

/** A row of a CSV file that did not become a reading, and why. */
public record BadRow(Path file, long line, String reason) {

  @Override
  public String toString() {
    return file + ":" + line + ": " + reason;
  }
}
