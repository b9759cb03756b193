// The class for the instructor: GET /api/class (the dashboard and `classroom status`), and the
// exports GET /api/export.json and /api/export.csv (the page's buttons and `classroom export`).
import type { FastifyInstance } from 'fastify';
import type { ClassExport, ClassHistory, ClassResponse, Grades } from '../contract.ts';
import { classCsv, classJson, gradesCsv } from '../export.ts';
import { classAtQuerySchema, classResponses, csvResponses, exportResponses, gradesResponses, historyResponses } from '../schemas.ts';
import { HttpError, type ClassContext } from './context.ts';

export async function exportPlugin(app: FastifyInstance, ctx: ClassContext): Promise<void> {
  const { info, live } = ctx;
  app.get('/api/class', { preHandler: app.instructorOnly, schema: { response: classResponses } }, async (): Promise<ClassResponse> => ({ class: { name: info.name, joinCode: info.joinCode, labs: ctx.labs }, ...live.view() }));
  // the room over time: the chart of steps passed, and the class as it was at any past moment
  app.get('/api/history', { preHandler: app.instructorOnly, schema: { response: historyResponses } }, (): Promise<ClassHistory> => live.history());
  app.get<{ Querystring: { t: string } }>('/api/class/at', { preHandler: app.instructorOnly, schema: { querystring: classAtQuerySchema, response: classResponses } }, async (req): Promise<ClassResponse> => {
    const at = Date.parse(req.query.t);
    if (!Number.isFinite(at)) throw new HttpError(400, `invalid request: querystring/t is not a moment (an ISO time such as 2026-12-06T10:00:00Z)`);
    return { class: { name: info.name, joinCode: info.joinCode, labs: ctx.labs }, ...(await live.viewAt(Math.min(at, Date.now()))) };
  });
  app.get('/api/export.json', { preHandler: app.instructorOnly, schema: { response: exportResponses } }, async (_req, reply): Promise<ClassExport> => {
    void reply.header('content-disposition', `attachment; filename="class-${info.name}.json"`);
    return classJson(live.view(), info.name);
  });
  app.get('/api/export.csv', { preHandler: app.instructorOnly, schema: { response: csvResponses } }, async (_req, reply) => {
    return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="class-${info.name}.csv"`).send(classCsv(live.view()));
  });
  // the grading export (issue 22): a row per learner and step, and a summary per learner
  app.get('/api/grades.json', { preHandler: app.instructorOnly, schema: { response: gradesResponses } }, async (_req, reply): Promise<Grades> => {
    void reply.header('content-disposition', `attachment; filename="grades-${info.name}.json"`);
    return live.grades(info.name, ctx.recordings.of);
  });
  app.get('/api/grades.csv', { preHandler: app.instructorOnly, schema: { response: csvResponses } }, async (_req, reply) => {
    return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="grades-${info.name}.csv"`).send(gradesCsv(live.grades(info.name, ctx.recordings.of)));
  });
}
