package dev.forecaster.schemas;

import java.util.Arrays;
import org.apache.avro.util.ClassSecurityValidator;

/**
 * Avro 1.12 instantiates only classes from packages named in the system property {@code
 * org.apache.avro.SERIALIZABLE_PACKAGES} (a guard against gadget classes named in a hostile
 * schema). We trust exactly the package of our generated contracts, nothing wider.
 *
 * <p>Avro reads the property once, when its validator class initialises, so this must run before
 * any Avro record is decoded in the JVM. {@link AvroCodec} calls it from its static initialiser;
 * JVMs that may touch Avro earlier (a Flink task manager, the CLI) set the property on their
 * command line as well.
 */
public final class TrustedPackages {

  /** The package of the classes generated from {@code schemas/src/main/avro}. */
  public static final String CONTRACTS_PACKAGE = "dev.forecaster.avro";

  public static final String PROPERTY = "org.apache.avro.SERIALIZABLE_PACKAGES";

  private TrustedPackages() {}

  /** Adds the contracts package to the property, keeping whatever else the user trusts. */
  public static synchronized void ensureContractsTrusted() {
    String current = System.getProperty(PROPERTY);
    if (current == null || current.isBlank()) {
      System.setProperty(PROPERTY, CONTRACTS_PACKAGE);
    } else if (Arrays.stream(current.split(","))
        .map(String::trim)
        .noneMatch(CONTRACTS_PACKAGE::equals)) {
      System.setProperty(PROPERTY, current + "," + CONTRACTS_PACKAGE);
    }
  }

  /**
   * Fails with a message that names the fix when Avro was initialised before the property could be
   * set (and so would refuse to build our records at the first decode).
   */
  public static void verify(Class<?> contractClass) {
    try {
      ClassSecurityValidator.validate(contractClass);
    } catch (SecurityException e) {
      throw new IllegalStateException(
          "Avro does not trust "
              + contractClass.getName()
              + ": start the JVM with -D"
              + PROPERTY
              + "="
              + CONTRACTS_PACKAGE
              + " (Avro read the property before this project could set it)",
          e);
    }
  }
}
