import { BullModule } from '@nestjs/bull';
import { Global, Module } from '@nestjs/common';
import { ENCRYPTION_QUEUE, EncryptionProcessor, EncryptionSchedule } from './encryption.processor';
import { FieldCipher } from './field-cipher';
import { ReEncryption } from './reencryption';

/** Encryption at rest of case content. Global: the case, conversation, source-identity and replay paths all encrypt or decrypt. */
@Global()
@Module({
  imports: [BullModule.registerQueue({ name: ENCRYPTION_QUEUE })],
  providers: [FieldCipher, ReEncryption, EncryptionProcessor, EncryptionSchedule],
  exports: [FieldCipher, ReEncryption],
})
export class EncryptionModule {}
