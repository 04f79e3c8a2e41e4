import { describe, expect, it } from '@jest/globals';
import { Controller, Get, Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';

@Injectable()
class Svc { hi() { return 'hi'; } }
@Controller()
class C { constructor(private readonly s: Svc) {} @Get() get() { return { v: this.s.hi() }; } }
@Module({ controllers: [C], providers: [Svc] })
class M {}

describe('smoke', () => {
  it('boots nest in ESM jest', async () => {
    const mod = await Test.createTestingModule({ imports: [M] }).compile();
    const app = mod.createNestApplication();
    await app.init();
    await request(app.getHttpServer()).get('/').expect(200, { v: 'hi' });
    await app.close();
  });
});
