package ai.loro.datasets;

import ai.loro.core.LoroException;
import java.util.ArrayList;
import java.util.List;

/**
 * A small RFC 4180 parser: comma-separated fields, fields in double quotes may hold commas, line
 * breaks and doubled quotes ({@code ""}); records end with CRLF or LF. A leading UTF-8 byte order
 * mark is dropped. Unquoted fields are taken as they are (spaces kept); a quote inside an unquoted
 * field is kept literally. Blank lines between records are skipped.
 */
final class Csv {
    private Csv() {}

    /** A record's fields and the 1-based line it starts on. */
    record Record(long line, List<String> fields) {}

    interface Sink {
        void accept(Record r);
    }

    /** Parses text; {@code where} names the file in errors. */
    static void parse(String text, String where, Sink sink) {
        int n = text.length();
        int i = text.startsWith("\uFEFF") ? 1 : 0;
        long line = 1;
        while (i < n) {
            // skip blank lines
            if (text.charAt(i) == '\n') {
                line++;
                i++;
                continue;
            }
            if (text.charAt(i) == '\r' && i + 1 < n && text.charAt(i + 1) == '\n') {
                line++;
                i += 2;
                continue;
            }
            long start = line;
            List<String> fields = new ArrayList<>();
            StringBuilder f = new StringBuilder();
            boolean endOfRecord = false;
            while (!endOfRecord) {
                f.setLength(0);
                if (i < n && text.charAt(i) == '"') {
                    long quoteLine = line;
                    i++;
                    while (true) {
                        if (i >= n) {
                            throw new LoroException(where + ":" + quoteLine + ": CSV quoted field is not closed"
                                    + " (a field starting with \" must end with \"; write a quote inside it as \"\")");
                        }
                        char c = text.charAt(i);
                        if (c == '"') {
                            if (i + 1 < n && text.charAt(i + 1) == '"') {
                                f.append('"');
                                i += 2;
                            } else {
                                i++;
                                break;
                            }
                        } else {
                            if (c == '\n') {
                                line++;
                            }
                            f.append(c);
                            i++;
                        }
                    }
                    if (i < n && text.charAt(i) != ',' && text.charAt(i) != '\n'
                            && !(text.charAt(i) == '\r' && i + 1 < n && text.charAt(i + 1) == '\n')
                            && !(text.charAt(i) == '\r' && i + 1 == n)) {
                        throw new LoroException(where + ":" + line + ": CSV text after a closing quote: '"
                                + text.charAt(i) + "' (a quoted field must be followed by a comma or a line end)");
                    }
                } else {
                    while (i < n) {
                        char c = text.charAt(i);
                        if (c == ',' || c == '\n' || (c == '\r' && (i + 1 == n || text.charAt(i + 1) == '\n'))) {
                            break;
                        }
                        f.append(c);
                        i++;
                    }
                }
                fields.add(f.toString());
                if (i >= n) {
                    endOfRecord = true;
                } else if (text.charAt(i) == ',') {
                    i++;
                    if (i >= n) {
                        fields.add("");
                        endOfRecord = true;
                    }
                } else {
                    i += text.charAt(i) == '\r' ? 2 : 1;
                    line++;
                    endOfRecord = true;
                }
            }
            sink.accept(new Record(start, fields));
        }
    }
}
