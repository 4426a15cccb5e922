package dev.forecaster.schemas.csv;

/** A CSV read stopped at a bad row ({@link BadRowPolicy#FAIL}), or at a file it cannot read. */
public final class BadRowException extends RuntimeException {

  private final transient BadRow row;

  public BadRowException(BadRow row) {
    super(row.toString());
    this.row = row;
  }

  public BadRowException(BadRow row, Throwable cause) {
    super(row.toString(), cause);
    this.row = row;
  }

  public BadRow row() {
    return row;
  }
}
