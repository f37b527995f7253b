/* BindingsTest.java: the JUnit 4 suite ctest runs as java_bindings. */
package org.memtx;

import org.junit.runner.RunWith;
import org.junit.runners.Suite;

@RunWith(Suite.class)
@Suite.SuiteClasses({ErrorsTest.class, ModelTest.class, SessionTest.class, TrainingTest.class})
public class BindingsTest {}
