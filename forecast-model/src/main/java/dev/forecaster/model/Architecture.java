package dev.forecaster.model;

import java.util.Locale;

/** The recurrent cell of a forecaster network. */
public enum Architecture {
  GRU,
  LSTM;

  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static Architecture named(String name) {
    try {
      return valueOf(name.strip().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("unknown architecture '" + name + "': use gru or lstm", e);
    }
  }
}
