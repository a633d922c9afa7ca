/** What bench/run.ts dispatches to: one benchmark per bench/<name>.ts. */
export interface Benchmark {
  /** One line for the list printed on an unknown name. */
  readonly description: string;
  /** `args` are the command-line arguments after the benchmark's name; resolves to the exit code. */
  run(args: readonly string[]): Promise<number>;
}
