package ai.loro.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code loro data}: data set tools. */
@Command(name = "data", mixinStandardHelpOptions = true,
        description = "Data set tools: inspect a training file before fine-tuning.",
        subcommands = {DataInspectCommand.class})
public final class DataCommand implements Runnable {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
