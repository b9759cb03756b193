// The class for the instructor: GET /api/class (the dashboard and `classroom status`), and the
// exports GET /api/export.json and /api/export.csv (the page's buttons and `classroom export`).
import type { FastifyInstance } from 'fastify';
import type { ClassExport, ClassResponse, Grades } from '../contract.ts';
import { classCsv, classJson, gradesCsv } from '../export.ts';
import { classResponses, csvResponses, exportResponses, gradesResponses } from '../schemas.ts';
import type { ClassContext } from './context.ts';

export async function exportPlugin(app: FastifyInstance, ctx: ClassContext): Promise<void> {
  const { info, live } = ctx;
  app.get('/api/class', { preHandler: app.instructorOnly, schema: { response: classResponses } }, async (): Promise<ClassResponse> => ({ class: { name: info.name, joinCode: info.joinCode, labs: ctx.labs }, ...live.view() }));
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
