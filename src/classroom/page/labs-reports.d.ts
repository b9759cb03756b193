/** True when `data` from xterm.js's onData is an answer to a query, which no key produces. */
export declare function isTerminalReport(data: string): boolean;
