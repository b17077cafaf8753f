import { Module } from '@nestjs/common';
import { CasesModule } from '../cases/cases.module';
import { ConversationsController } from './conversations.controller';
import { ConversationsService } from './conversations.service';

@Module({ imports: [CasesModule], controllers: [ConversationsController], providers: [ConversationsService] })
export class ConversationsModule {}
