import { Module } from '@nestjs/common';
import { CasesModule } from '../cases/cases.module';
import { SupportController } from './support.controller';
import { SupportService } from './support.service';

@Module({ imports: [CasesModule], controllers: [SupportController], providers: [SupportService] })
export class SupportModule {}
