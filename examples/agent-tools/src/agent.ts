// The agent loop: ask the planner for the next step, run the tool it names, show it the result, until it answers.
import type { Nango } from '@nangohq/node';
import { runTool, type Connection, type ToolCall, type ToolResult } from './tools.ts';

export interface Turn {
    call: ToolCall;
    result: ToolResult;
}
export type Step = ToolCall | { answer: string };
/** Chooses the next step from what happened so far: a model in a real agent, a script in this example. */
export type Planner = (turns: readonly Turn[]) => Step;

export interface AgentOptions {
    nango: Nango;
    connection: Connection;
    planner: Planner;
    print?: (line: string) => void;
    maxSteps?: number;
}

export async function runAgent({ nango, connection, planner, print = console.log, maxSteps = 10 }: AgentOptions) {
    const turns: Turn[] = [];
    for (let i = 0; i < maxSteps; i++) {
        const step = planner(turns);
        if ('answer' in step) {
            print(`= ${step.answer}`);
            return { answer: step.answer, turns };
        }
        print(`→ ${step.tool} ${JSON.stringify(step.args)}`);
        const result = await runTool(nango, connection, step);
        print(result.ok ? `← ${JSON.stringify(result.output)}` : `← error: ${result.error}`);
        turns.push({ call: step, result });
    }
    throw new Error(`the planner gave no answer in ${maxSteps} steps`);
}
