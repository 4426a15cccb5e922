package dev.forecaster.schemas;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;
import org.apache.avro.Schema;

/**
 * Earlier versions of the contracts, so that a reader built today still decodes what an older
 * producer wrote. When a contract changes, copy its previous {@code .avsc} into {@code
 * src/main/resources/schema-history/} and add the file name to {@code schema-history/INDEX} there.
 * Every {@code schema-history/INDEX} on the classpath is read.
 */
public final class SchemaHistory {

  static final String FOLDER = "schema-history/";

  private SchemaHistory() {}

  /** The older writer schemas of the record with the given full name, in index order. */
  public static List<Schema> olderVersionsOf(String fullName) {
    List<Schema> versions = new ArrayList<>();
    ClassLoader loader = SchemaHistory.class.getClassLoader();
    try {
      for (URL index : Collections.list(indexes(loader))) {
        for (String file : entries(index)) {
          Schema schema = parse(loader, file);
          if (schema.getFullName().equals(fullName)) {
            versions.add(schema);
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the schema history", e);
    }
    return versions;
  }

  private static Enumeration<URL> indexes(ClassLoader loader) throws IOException {
    return loader.getResources(FOLDER + "INDEX");
  }

  private static List<String> entries(URL index) throws IOException {
    List<String> files = new ArrayList<>();
    try (BufferedReader in =
        new BufferedReader(new InputStreamReader(index.openStream(), StandardCharsets.UTF_8))) {
      for (String line; (line = in.readLine()) != null; ) {
        String entry = line.strip();
        if (!entry.isEmpty() && !entry.startsWith("#")) {
          files.add(entry);
        }
      }
    }
    return files;
  }

  private static Schema parse(ClassLoader loader, String file) throws IOException {
    try (InputStream in = loader.getResourceAsStream(FOLDER + file)) {
      if (in == null) {
        throw new IOException(FOLDER + "INDEX names " + file + ", which is not on the classpath");
      }
      return new Schema.Parser().parse(in);
    }
  }
}
