package io.pgbridge.internal.replication;

import java.util.concurrent.locks.LockSupport;

/**
 * Test-only hook: names the points between the steps of a source's replication setup, so that a crash test can kill
 * the bridge JVM exactly there. Inert unless the JVM runs with the system property {@value #PROPERTY} set to a step's
 * name: the setup thread then prints {@code pgbridge-test: setup paused at <step>} on standard output and parks for
 * good, for the test to SIGKILL the process. Not part of pgbridge's API or configuration; never set it in production.
 */
public final class SetupStep {
    /** The system property naming the step to pause at. */
    public static final String PROPERTY = "pgbridge.test.pause-setup-at";

    private SetupStep() {}

    /** The setup has completed the step {@code step}; pauses for good when a test asked for it. */
    public static void reached(String step) {
        if (!step.equals(System.getProperty(PROPERTY))) {
            return;
        }
        System.out.println("pgbridge-test: setup paused at " + step);
        System.out.flush();
        while (true) {
            LockSupport.park();
        }
    }
}
